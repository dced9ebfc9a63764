import { useId, useState } from 'react';
import { PasswordStrength, usePasswordAssessment } from './PasswordStrength.tsx';
import { FIELD_MAX_LENGTH } from '../field-limits.ts';

/** A new password typed twice and assessed as it is typed (the server still has the last word). */
export function useNewPassword(email: string) {
  const [password, setPassword] = useState('');
  const [confirm, setConfirm] = useState('');
  const assessment = usePasswordAssessment(password, email);
  return {
    password,
    setPassword,
    confirm,
    setConfirm,
    assessment,
    mismatch: confirm.length > 0 && confirm !== password,
    acceptable: assessment?.ok === true && confirm === password,
    /** Forget both entries (after a submit, whatever its outcome). */
    clear() {
      setPassword('');
      setConfirm('');
    },
  };
}

export function NewPasswordFields({ state, label, busy }: { state: ReturnType<typeof useNewPassword>; label: string; busy: boolean }) {
  const strengthId = useId();
  return (
    <>
      <label>
        {label}
        <input
          type="password"
          autoComplete="new-password"
          maxLength={FIELD_MAX_LENGTH.password}
          value={state.password}
          onChange={(event) => state.setPassword(event.target.value)}
          aria-describedby={strengthId}
          disabled={busy}
        />
      </label>
      <PasswordStrength assessment={state.assessment} id={strengthId} />
      <label>
        Confirm {label.toLowerCase()}
        <input
          type="password"
          autoComplete="new-password"
          maxLength={FIELD_MAX_LENGTH.password}
          value={state.confirm}
          onChange={(event) => state.setConfirm(event.target.value)}
          aria-invalid={state.mismatch}
          disabled={busy}
        />
      </label>
      {state.mismatch ? <p className="field-error">The two passwords are not the same.</p> : null}
    </>
  );
}
