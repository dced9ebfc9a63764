import { useState, type FormEvent } from 'react';
import type { z } from 'zod';
import type { Result } from '../../../src-shared/result.ts';
import { errorOf } from '../stores/reverification.ts';
import { FIELD_MAX_LENGTH } from '../field-limits.ts';

/** A name edited in place in a table row: checked by the same schema the API uses, Escape to cancel. */
export function InlineRename({
  label,
  initial,
  schema,
  save,
  onDone,
}: {
  label: string;
  initial: string;
  schema: z.ZodType<string, string>;
  save(name: string): Promise<Result<unknown>>;
  onDone(): void;
}) {
  const [name, setName] = useState(initial);
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);

  const submit = async (event: FormEvent) => {
    event.preventDefault();
    const parsed = schema.safeParse(name);
    if (!parsed.success) return setError(parsed.error.issues[0]?.message ?? 'Give it a name.');
    setBusy(true);
    setError(null);
    const result = await save(parsed.data);
    setBusy(false);
    if (result.ok) onDone();
    else setError(errorOf(result));
  };

  return (
    <form className="inline-form" onSubmit={(event) => void submit(event)} noValidate>
      <input
        aria-label={label}
        maxLength={FIELD_MAX_LENGTH.name}
        value={name}
        onChange={(event) => {
          setName(event.target.value);
          setError(null);
        }}
        onKeyDown={(event) => {
          if (event.key === 'Escape') onDone();
        }}
        aria-invalid={error !== null}
        disabled={busy}
        autoFocus
      />
      <button type="submit" className="primary" disabled={busy}>
        Save
      </button>
      <button type="button" onClick={onDone} disabled={busy}>
        Cancel
      </button>
      {error ? (
        <span className="field-error" role="alert">
          {error}
        </span>
      ) : null}
    </form>
  );
}
