import { useRef, useState, type FormEvent } from 'react';
import { ExchangeKeyErrorCode } from '../../../../src-shared/errors.ts';
import type { AddedExchangeKey } from '../../../../src-shared/ipc-exchange-keys.ts';
import { KEY_EXCHANGES, keyPageLink, openKeyExchange, type ContractType, type ExchangeId, type OpenKeyExchange } from '../../../../src-shared/exchanges.ts';
import { useAppStore } from '../../stores/app.ts';
import { isCancelled } from '../../stores/reverification.ts';
import { useExchangeKeysStore } from '../../stores/exchange-keys.ts';
import { Alert } from '../Alert.tsx';
import { Dialog } from '../Dialog.tsx';
import { FIELD_MAX_LENGTH } from '../../field-limits.ts';
import { formatDay } from '../../format.ts';

export const CONTRACT_NAMES: Record<ContractType, string> = {
  linear: 'Linear (settled in USDT or USD)',
  inverse: 'Inverse (settled in the coin)',
};


function Instructions({ exchange, testnet }: { exchange: OpenKeyExchange; testnet: boolean }) {
  const { instructions } = exchange;
  const apiUrl = useAppStore((s) => s.info?.apiUrl ?? '');
  const where = testnet ? exchange.testnetName : exchange.name;
  return (
    <section className="key-instructions" aria-label={`How to make a ${exchange.name} key`}>
      <p>
        <strong>Make a key that can trade and nothing else</strong> on {where}:
      </p>
      <p className="instruction-heading">Turn on</p>
      <ul>
        {instructions.enable.map((setting) => (
          <li key={setting}>{setting}</li>
        ))}
      </ul>
      <p className="instruction-heading">Leave off</p>
      <ul>
        {instructions.leaveOff.map((setting) => (
          <li key={setting}>{setting}</li>
        ))}
      </ul>
      <p className="instruction-heading">Restrict it to your bot’s IP address</p>
      <p>{instructions.ipRestriction}</p>
      {instructions.note ? <p className="hint">{instructions.note}</p> : null}
      {/* Through our API's redirect: the desktop app opens only our own addresses in the system browser. */}
      <a href={keyPageLink(apiUrl, exchange.id, testnet)} target="_blank" rel="noopener noreferrer">
        Open the API key page of {where}
      </a>
    </section>
  );
}

/**
 * Adding a key. The secret and passphrase fields are uncontrolled: their text lives in the input only,
 * is read once on submit, and the fields are emptied straight away, whatever the outcome.
 */
export function AddKeyDialog({ onClose, onAdded }: { onClose(): void; onAdded(added: AddedExchangeKey): void }) {
  const add = useExchangeKeysStore((s) => s.add);
  const [label, setLabel] = useState('');
  const [exchangeId, setExchangeId] = useState<ExchangeId>('bybit');
  const [contractType, setContractType] = useState<ContractType>('linear');
  const [testnet, setTestnet] = useState(false);
  const [apiKey, setApiKey] = useState('');
  const [verifyFromBotRegion, setVerifyFromBotRegion] = useState(false);
  const [offerBotRegion, setOfferBotRegion] = useState(false);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const [secretCleared, setSecretCleared] = useState(false);
  const secretRef = useRef<HTMLInputElement>(null);
  const passphraseRef = useRef<HTMLInputElement>(null);
  const exchange = openKeyExchange(exchangeId);

  const pick = (id: ExchangeId) => {
    const next = openKeyExchange(id);
    setExchangeId(id);
    if (!next.contractTypes.includes(contractType)) setContractType(next.contractTypes[0] ?? 'linear');
    setOfferBotRegion(false);
    setVerifyFromBotRegion(false);
    setError(null);
  };

  const submit = async (event: FormEvent) => {
    event.preventDefault();
    if (!label.trim()) return setError('Give the key a name.');
    if (!apiKey.trim()) return setError('Paste the API key.');
    const secretField = secretRef.current;
    const passphraseField = passphraseRef.current;
    const apiSecret = secretField?.value.trim() ?? '';
    const passphrase = passphraseField?.value ?? '';
    if (secretField) secretField.value = '';
    if (passphraseField) passphraseField.value = '';
    if (!apiSecret) return setError('Paste the API secret.');
    if (exchange.needsPassphrase && !passphrase) return setError(`${exchange.name} keys come with a passphrase. Enter it too.`);
    setBusy(true);
    setError(null);
    const result = await add({
      label: label.trim(),
      exchange: exchangeId,
      contractType,
      testnet,
      apiKey: apiKey.trim(),
      apiSecret,
      ...(exchange.needsPassphrase ? { passphrase } : {}),
      verifyFromBotRegion,
    });
    setBusy(false);
    if (result.ok) return onAdded(result.value);
    // The secret field was emptied when the key was sent: the hint under it says to paste it again.
    setSecretCleared(true);
    if (isCancelled(result)) return setError('You did not confirm it was you, so the key was not added.');
    if (result.code === ExchangeKeyErrorCode.enum.key_or_ip_refused) setOfferBotRegion(true);
    // A key that is on the account already needs no retry: the message names where it is.
    if (result.code === ExchangeKeyErrorCode.enum.key_already_added) return setError(result.message);
    setError(result.message);
  };

  return (
    <Dialog title="Add an exchange key" onClose={onClose}>
      <form className="form add-key" onSubmit={(event) => void submit(event)} noValidate autoComplete="off">
        {/* The fields scroll; the message and the buttons below them stay in view on a short window. */}
        <div className="add-key-fields">
        <label>
          Name
          <input value={label} onChange={(event) => setLabel(event.target.value)} maxLength={FIELD_MAX_LENGTH.name} placeholder="e.g. Bybit main account" disabled={busy} />
        </label>
        <fieldset className="exchange-picker" disabled={busy}>
          <legend>Exchange</legend>
          {KEY_EXCHANGES.map((entry) =>
            entry.status === 'open' ? (
              <label key={entry.id} className={entry.id === exchangeId ? 'picker-option selected' : 'picker-option'}>
                <input type="radio" name="exchange" value={entry.id} checked={entry.id === exchangeId} onChange={() => pick(entry.id)} />
                {entry.name}
              </label>
            ) : (
              <label key={entry.id} className="picker-option closed" data-exchange={entry.id}>
                <input type="radio" name="exchange" value={entry.id} disabled />
                <span>
                  {entry.name} <span className="badge">closed since {formatDay(entry.closedOn)}</span>
                  <span className="hint">{entry.explanation}</span>
                </span>
              </label>
            ),
          )}
        </fieldset>
        <label className="check">
          <input type="checkbox" checked={testnet} onChange={(event) => setTestnet(event.target.checked)} disabled={busy} />
          Testnet key ({exchange.testnetName})
        </label>
        <Instructions exchange={exchange} testnet={testnet} />
        <label>
          Contract type
          <select value={contractType} onChange={(event) => setContractType(event.target.value as ContractType)} disabled={busy || exchange.contractTypes.length < 2}>
            {exchange.contractTypes.map((type) => (
              <option key={type} value={type}>
                {CONTRACT_NAMES[type]}
              </option>
            ))}
          </select>
        </label>
        <label>
          API key
          <input value={apiKey} maxLength={FIELD_MAX_LENGTH.apiKey} onChange={(event) => setApiKey(event.target.value)} spellCheck={false} autoComplete="off" disabled={busy} />
        </label>
        <label>
          API secret
          <input
            ref={secretRef}
            type="password"
            maxLength={FIELD_MAX_LENGTH.apiSecret}
            spellCheck={false}
            autoComplete="new-password"
            disabled={busy}
            aria-describedby={secretCleared ? 'secret-cleared' : undefined}
          />
          {secretCleared ? (
            <span id="secret-cleared" className="hint">
              The secret is cleared after each try, so this window never keeps it: paste it again.
            </span>
          ) : null}
        </label>
        {exchange.needsPassphrase ? (
          <label>
            Passphrase
            <input ref={passphraseRef} type="password" maxLength={FIELD_MAX_LENGTH.passphrase} spellCheck={false} autoComplete="new-password" disabled={busy} />
          </label>
        ) : null}
        {offerBotRegion ? (
          <label className="check">
            <input type="checkbox" checked={verifyFromBotRegion} onChange={(event) => setVerifyFromBotRegion(event.target.checked)} disabled={busy} />
            Restricted to my bot’s IP address: verify it from the bot’s region
          </label>
        ) : null}
        <p className="hint">
          plutarc checks the key with {exchange.name} first and refuses one that can withdraw or transfer funds. The secret is sealed on this
          computer; only the bot you deploy with this key can open it.
        </p>
        </div>
        <Alert message={error} small />
        <div className="dialog-actions">
          <button type="button" onClick={onClose} disabled={busy}>
            Cancel
          </button>
          <button type="submit" className="primary" disabled={busy}>
            {busy ? 'Checking the key…' : 'Add key'}
          </button>
        </div>
      </form>
    </Dialog>
  );
}
