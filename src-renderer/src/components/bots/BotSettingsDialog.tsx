import { useCallback, useEffect, useMemo, useState, type FormEvent } from 'react';
import { OnStopPolicy, TimeframeName, type MarginMode } from '../../../../src-shared/bot-instance.ts';
import type { z } from 'zod';
import { BotSettings, type BotDetail } from '../../../../src-shared/bots.ts';
import type { ExchangeKeyView } from '../../../../src-shared/exchange-keys.ts';
import { openKeyExchange } from '../../../../src-shared/exchanges.ts';
import type { RegionId } from '../../../../src-shared/regions.ts';
import { DEFAULT_BOT_LIMITS, type BotLimits } from '../../../../src-shared/templates.ts';
import { changedSettings, onStopWords } from '../../stores/bot-feed.ts';
import { useBotsStore } from '../../stores/bots.ts';
import { useExchangeKeysStore } from '../../stores/exchange-keys.ts';
import { useRegionsStore } from '../../stores/regions.ts';
import { errorOf, isCancelled } from '../../stores/reverification.ts';
import { useTemplatesStore } from '../../stores/templates.ts';
import { Alert } from '../Alert.tsx';
import { Dialog } from '../Dialog.tsx';
import { RegionPicker } from '../regions/RegionPicker.tsx';

/** The perpetual a new bot trades unless the user picks another: Bitcoin, in the key's kind of contract. */
export function defaultSymbol(key: Pick<ExchangeKeyView, 'exchange' | 'contractType'>): string {
  if (key.contractType === 'inverse') return 'BTC/USD:BTC';
  return key.exchange === 'krakenfutures' ? 'BTC/USD:USD' : 'BTC/USDT:USDT';
}

type Timeframe = z.infer<typeof TimeframeName>;
type OnStop = z.infer<typeof OnStopPolicy>;
type Reconcile = BotSettings['reconcile'];

const LIMIT_FIELDS: readonly { field: keyof BotLimits; label: string; step: string }[] = [
  { field: 'maxOpenPositionsPerSymbol', label: 'Open positions per asset, at most', step: '1' },
  { field: 'maxOpenPositionsTotal', label: 'Open positions in all, at most', step: '1' },
  { field: 'maxDailyLossPercent', label: 'Daily loss limit (% of the day’s starting equity)', step: '0.1' },
  { field: 'maxLeverage', label: 'Leverage, at most', step: '1' },
];

/** Creating a bot, or editing one (a running bot's name and limits; everything while it is stopped). */
export type SettingsDialogMode =
  | {
      kind: 'create';
      /** The bot was created; `deployProblem` says why it did not deploy when the user asked for that too. */
      onCreated(detail: BotDetail, deployProblem: string | null): void;
    }
  | { kind: 'edit'; detail: BotDetail; onSaved(detail: BotDetail): void };

const limitTexts = (limits: BotLimits): Record<keyof BotLimits, string> =>
  Object.fromEntries(Object.entries(limits).map(([field, value]) => [field, String(value)])) as Record<keyof BotLimits, string>;

/**
 * Create a bot from a template version and a key, and deploy it at once to the region picked (the recommended
 * one first); or edit one. A running bot's trading settings are shown but locked: stop it to change them.
 */
export function BotSettingsDialog({ mode, onClose }: { mode: SettingsDialogMode; onClose(): void }) {
  const editing = mode.kind === 'edit' ? mode.detail : null;
  const initial = editing?.settings ?? null;
  /** While the bot runs, only its name and limits can change. */
  const locked = editing !== null && editing.summary.state !== 'stopped';
  const templates = useTemplatesStore((s) => s.templates);
  const keys = useExchangeKeysStore((s) => s.keys);
  const bots = useBotsStore((s) => s.bots);
  const create = useBotsStore((s) => s.create);
  const update = useBotsStore((s) => s.update);
  const deploy = useBotsStore((s) => s.deploy);
  const regions = useRegionsStore((s) => s.regions);
  const lastProbe = useRegionsStore((s) => s.history[0] ?? null);
  const fetchRegions = useRegionsStore((s) => s.fetchRegions);

  // The bot's own key stays a choice even when switched off (the API says so if it is kept that way).
  const activeKeys = useMemo(() => keys.filter((k) => k.active || k.id === initial?.keyRecordId), [keys, initial]);
  const [name, setName] = useState(initial?.name ?? '');
  const [templateId, setTemplateId] = useState(initial?.templateId ?? templates[0]?.id ?? '');
  const template = templates.find((t) => t.id === templateId) ?? null;
  const [version, setVersion] = useState(initial?.templateVersion ?? template?.latestVersion ?? 1);
  const [keyId, setKeyId] = useState(initial?.keyRecordId ?? activeKeys[0]?.id ?? '');
  const key = activeKeys.find((k) => k.id === keyId) ?? null;
  const [symbol, setSymbol] = useState(initial?.symbol ?? (key ? defaultSymbol(key) : 'BTC/USDT:USDT'));
  const [timeframe, setTimeframe] = useState<Timeframe>(initial?.timeframe ?? '1m');
  const [equityPercent, setEquityPercent] = useState(initial?.equityPercent == null ? '' : String(initial.equityPercent));
  const [leverage, setLeverage] = useState(String(initial?.leverage ?? 2));
  const [marginMode, setMarginMode] = useState<MarginMode>(initial?.marginMode ?? 'isolated');
  const [limits, setLimits] = useState<Record<keyof BotLimits, string>>(() => limitTexts(initial?.limits ?? DEFAULT_BOT_LIMITS));
  const [onStop, setOnStop] = useState<OnStop>(initial?.onStop ?? 'close');
  const [reconcile, setReconcile] = useState<Reconcile>(initial?.reconcile ?? 'adopt');
  const [region, setRegion] = useState<RegionId>(initial?.region ?? 'eu');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);

  useEffect(() => {
    if (regions.length === 0) void fetchRegions();
  }, [regions.length, fetchRegions]);
  const onSelectRegion = useCallback((picked: RegionId) => setRegion(picked), []);

  const pickTemplate = (id: string) => {
    setTemplateId(id);
    setVersion(templates.find((t) => t.id === id)?.latestVersion ?? 1);
  };
  const pickKey = (id: string) => {
    setKeyId(id);
    const picked = activeKeys.find((k) => k.id === id);
    if (picked) setSymbol(defaultSymbol(picked));
  };
  const servingBot = (k: ExchangeKeyView) => (k.assignedBotId ? (bots.find((b) => b.id === k.assignedBotId)?.name ?? 'another bot') : null);

  const submit = async (event: FormEvent, andDeploy: boolean) => {
    event.preventDefault();
    setError(null);
    const parsed = BotSettings.safeParse({
      name,
      templateId,
      templateVersion: version,
      keyRecordId: keyId,
      symbol: symbol.trim(),
      timeframe,
      equityPercent: equityPercent.trim() === '' ? null : Number(equityPercent),
      leverage: Number(leverage),
      marginMode,
      limits: Object.fromEntries(Object.entries(limits).map(([field, value]) => [field, Number(value)])),
      testnet: key?.testnet ?? initial?.testnet ?? false,
      onStop,
      reconcile,
      region,
    });
    if (!parsed.success) {
      const issue = parsed.error.issues[0];
      return setError(issue ? `${issue.path.join(' ') || 'Settings'}: ${issue.message}` : 'Check the settings.');
    }
    setBusy(true);
    if (mode.kind === 'edit') {
      const changes = changedSettings(mode.detail.settings, parsed.data);
      if (Object.keys(changes).length === 0) return onClose();
      const saved = await update(mode.detail.summary.id, changes);
      setBusy(false);
      if (!saved.ok) return setError(isCancelled(saved) ? 'You did not confirm it was you, so nothing changed.' : errorOf(saved));
      return mode.onSaved(saved.value);
    }
    const { onCreated } = mode;
    const created = await create(parsed.data);
    if (!created.ok) {
      setBusy(false);
      return setError(isCancelled(created) ? 'You did not confirm it was you, so no bot was created.' : errorOf(created));
    }
    if (!andDeploy) return onCreated(created.value, null);
    const deployed = await deploy(created.value.summary.id, region);
    setBusy(false);
    // The bot exists (stopped) either way: the dialog closes and the bot page says why it did not deploy.
    if (!deployed.ok) return onCreated(created.value, errorOf(deployed) ?? 'You did not confirm it was you, so the bot was not deployed.');
    onCreated(deployed.value, null);
  };

  return (
    <Dialog title={editing ? `Edit “${editing.summary.name}”` : 'New bot'} onClose={onClose}>
      <form className="form create-bot" onSubmit={(event) => void submit(event, !editing)} noValidate autoComplete="off">
        <div className="create-bot-fields">
          <label>
            Name
            <input value={name} onChange={(event) => setName(event.target.value)} maxLength={128} placeholder="e.g. BTC trend, EU" disabled={busy} />
          </label>
          {locked ? (
            <p className="hint" data-testid="settings-locked">
              The bot is running: its name and limits can change now; stop it to change anything else.
            </p>
          ) : null}
          <fieldset className="plain" disabled={busy || locked}>
          <legend className="visually-hidden">Trading settings</legend>
          <div className="field-row">
            <label>
              Template
              <select value={templateId} onChange={(event) => pickTemplate(event.target.value)} disabled={busy}>
                {templates.map((t) => (
                  <option key={t.id} value={t.id}>
                    {t.name}
                    {t.kind === 'system' ? ' (system)' : ''}
                  </option>
                ))}
              </select>
            </label>
            <label>
              Version
              <select value={version} onChange={(event) => setVersion(Number(event.target.value))} disabled={busy || !template}>
                {Array.from({ length: template?.latestVersion ?? 1 }, (_, i) => (template?.latestVersion ?? 1) - i).map((v) => (
                  <option key={v} value={v}>
                    {v === template?.latestVersion ? `${v} (latest)` : v}
                  </option>
                ))}
              </select>
            </label>
          </div>
          <label>
            Exchange key
            <select value={keyId} onChange={(event) => pickKey(event.target.value)} disabled={busy} aria-describedby="bot-key-hint">
              {activeKeys.map((k) => (
                <option key={k.id} value={k.id}>
                  {k.label} · {openKeyExchange(k.exchange).name}
                  {k.testnet ? ' testnet' : ''} · {k.maskedKey}
                  {servingBot(k) ? ` · serves ${servingBot(k)}` : ''}
                </option>
              ))}
            </select>
            <span id="bot-key-hint" className="hint">
              A key serves one bot at a time, and the bot trades on the key’s {key?.testnet ? 'testnet' : 'live account'}. Assigning it lets it trade, so plutarc may ask
              you to confirm it’s you.
            </span>
          </label>
          <div className="field-row">
            <label>
              Symbol
              <input value={symbol} onChange={(event) => setSymbol(event.target.value)} maxLength={50} spellCheck={false} disabled={busy} />
            </label>
            <label>
              Timeframe
              <select value={timeframe} onChange={(event) => setTimeframe(event.target.value as Timeframe)} disabled={busy}>
                {TimeframeName.options.map((tf) => (
                  <option key={tf} value={tf}>
                    {tf}
                  </option>
                ))}
              </select>
            </label>
          </div>
          <div className="field-row">
            <label>
              Size (% of equity per entry)
              <input value={equityPercent} onChange={(event) => setEquityPercent(event.target.value)} inputMode="decimal" placeholder="the template’s" disabled={busy} />
            </label>
            <label>
              Leverage
              <input type="number" min={1} max={125} step={1} value={leverage} onChange={(event) => setLeverage(event.target.value)} disabled={busy} />
            </label>
            <label>
              Margin mode
              <select value={marginMode} onChange={(event) => setMarginMode(event.target.value as MarginMode)} disabled={busy}>
                <option value="isolated">Isolated</option>
                <option value="cross">Cross</option>
              </select>
            </label>
          </div>
          </fieldset>
          <fieldset className="limits" disabled={busy}>
            <legend>Limits (they override the template)</legend>
            {LIMIT_FIELDS.map(({ field, label, step }) => (
              <label key={field}>
                {label}
                <input type="number" min={0} step={step} value={limits[field]} onChange={(event) => setLimits({ ...limits, [field]: event.target.value })} />
              </label>
            ))}
          </fieldset>
          <fieldset disabled={busy || locked}>
            <legend>When the bot stops</legend>
            {OnStopPolicy.options.map((policy) => (
              <label key={policy} className="check">
                <input type="radio" name="on-stop" value={policy} checked={onStop === policy} onChange={() => setOnStop(policy)} />
                {policy === 'close' ? 'Close its position' : 'Keep its position'}
                <span className="hint">{onStopWords(policy)}</span>
              </label>
            ))}
          </fieldset>
          <label>
            A position or order already on the account when the bot starts
            <select value={reconcile} onChange={(event) => setReconcile(event.target.value as Reconcile)} disabled={busy || locked}>
              <option value="adopt">Manage it as the bot’s own</option>
              <option value="close">Close it</option>
            </select>
          </label>
          {!editing && key && regions.length > 0 ? (
            <RegionPicker exchange={key.exchange} regions={regions} probes={lastProbe?.results ?? null} onSelect={onSelectRegion} disabled={busy} />
          ) : null}
        </div>
        <Alert message={error} small />
        <div className="dialog-actions">
          <button type="button" onClick={onClose} disabled={busy}>
            Cancel
          </button>
          {editing ? (
            <button type="submit" className="primary" disabled={busy}>
              {busy ? 'Saving…' : 'Save'}
            </button>
          ) : (
            <>
              <button type="button" onClick={(event) => void submit(event, false)} disabled={busy}>
                Create only
              </button>
              <button type="submit" className="primary" disabled={busy}>
                {busy ? 'Working…' : 'Create and deploy'}
              </button>
            </>
          )}
        </div>
      </form>
    </Dialog>
  );
}
