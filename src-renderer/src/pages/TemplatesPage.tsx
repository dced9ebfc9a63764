import { useEffect, useState } from 'react';
import type { TemplateSummary } from '../../../src-shared/templates-api.ts';
import { Alert } from '../components/Alert.tsx';
import { ConfirmDialog } from '../components/Dialog.tsx';
import { BacktestPanel } from '../components/templates/BacktestPanel.tsx';
import { TemplateEditor } from '../components/templates/TemplateEditor.tsx';
import { formatWhen } from '../format.ts';
import { useNoticesStore } from '../stores/notices.ts';
import { useTemplatesStore, type TemplatesTab } from '../stores/templates.ts';
import '../templates.css';

const TABS: { id: TemplatesTab; label: string }[] = [
  { id: 'library', label: 'Templates' },
  { id: 'editor', label: 'Editor' },
  { id: 'backtests', label: 'Backtests' },
];

function Library({ onError }: { onError: (message: string) => void }) {
  const templates = useTemplatesStore((s) => s.templates);
  const load = useTemplatesStore((s) => s.load);
  const open = useTemplatesStore((s) => s.open);
  const duplicate = useTemplatesStore((s) => s.duplicate);
  const remove = useTemplatesStore((s) => s.remove);
  const backtestFrom = useTemplatesStore((s) => s.backtestFrom);
  const notify = useNoticesStore((s) => s.notify);
  const [removing, setRemoving] = useState<TemplateSummary | null>(null);

  const act = async (run: () => Promise<{ ok: boolean; message?: string }>) => {
    const result = await run();
    if (!result.ok) onError(result.message ?? 'That did not work.');
  };
  const confirmRemove = async (t: TemplateSummary) => {
    setRemoving(null);
    const result = await remove(t.id);
    if (!result.ok) return onError(result.message);
    notify({ level: 'info', title: 'Template deleted', body: `“${t.name}” and all its versions are gone.` });
  };

  const section = (kind: TemplateSummary['kind'], title: string, empty: string) => {
    const rows = templates.filter((t) => t.kind === kind);
    return (
      <>
        <h2>{title}</h2>
        {rows.length === 0 ? (
          load.state === 'ready' ? <p className="muted">{empty}</p> : null
        ) : (
          <table className="table" aria-label={title}>
            <thead>
              <tr>
                <th scope="col">Name</th>
                <th scope="col">What it does</th>
                <th scope="col">Version</th>
                <th scope="col">
                  <span className="visually-hidden">Actions</span>
                </th>
              </tr>
            </thead>
            <tbody>
              {rows.map((t) => (
                <tr key={t.id} data-template={t.id}>
                  <td>
                    <strong>{t.name}</strong>
                    {t.duplicatedFrom ? <div className="muted small">from {t.duplicatedFrom.name} v{t.duplicatedFrom.version}</div> : null}
                  </td>
                  <td className="description">{t.description}</td>
                  <td>
                    {t.latestVersion}
                    {t.updatedAt ? <div className="muted small">{formatWhen(t.updatedAt)}</div> : null}
                  </td>
                  <td className="row-actions">
                    <button type="button" onClick={() => void act(() => open(t.id))} aria-label={`${t.kind === 'system' ? 'View' : 'Edit'} ${t.name}`}>
                      {t.kind === 'system' ? 'View' : 'Edit'}
                    </button>
                    <button type="button" onClick={() => void act(() => duplicate(t.id))} aria-label={`Duplicate ${t.name}`}>
                      Duplicate
                    </button>
                    <button type="button" onClick={() => backtestFrom({ templateId: t.id, version: t.latestVersion })} aria-label={`Backtest ${t.name}`}>
                      Backtest
                    </button>
                    {t.kind === 'user' ? (
                      <button type="button" onClick={() => setRemoving(t)} aria-label={`Delete ${t.name}`}>
                        Delete
                      </button>
                    ) : null}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        )}
      </>
    );
  };

  return (
    <>
      {section('system', 'System templates', '')}
      {section('user', 'My templates', 'None yet. Duplicate a system template to make one of your own.')}
      {removing ? (
        <ConfirmDialog title={`Delete “${removing.name}”?`} confirmLabel={`Delete “${removing.name}”`} onConfirm={() => void confirmRemove(removing)} onCancel={() => setRemoving(null)}>
          <p>
            “{removing.name}” and all {removing.latestVersion} of its versions are deleted. Backtests kept on this computer stay. A template a bot runs
            cannot be deleted.
          </p>
        </ConfirmDialog>
      ) : null}
    </>
  );
}

/** Strategy templates (system and the user's own), the editor, and backtests, as tabs of one page. */
export function TemplatesPage() {
  const tab = useTemplatesStore((s) => s.tab);
  const setTab = useTemplatesStore((s) => s.setTab);
  const load = useTemplatesStore((s) => s.load);
  const loadTemplates = useTemplatesStore((s) => s.loadTemplates);
  const editing = useTemplatesStore((s) => s.editing);
  const [error, setError] = useState<string | null>(null);

  useEffect(() => {
    void loadTemplates();
  }, [loadTemplates]);

  return (
    <section aria-labelledby="templates-title" className="templates">
      <header className="page-header">
        <h1 id="templates-title">Strategies</h1>
      </header>
      <p className="lead">
        A template is a strategy made of components: signals vote long or short at each candle close, filters and guards decide whether an entry
        may happen, exit rules close the position. Start from a system template, duplicate it to make it yours, and backtest any version.
      </p>
      <div role="tablist" aria-label="Strategies" className="tabs">
        {TABS.map((t) => (
          <button
            key={t.id}
            type="button"
            role="tab"
            aria-selected={tab === t.id}
            className={tab === t.id ? 'tab active' : 'tab'}
            disabled={t.id === 'editor' && !editing}
            onClick={() => {
              setError(null);
              setTab(t.id);
            }}
          >
            {t.label}
          </button>
        ))}
      </div>
      <Alert message={load.state === 'error' ? load.message : null} onRetry={() => void loadTemplates()} />
      <Alert message={error} />
      <div role="tabpanel">
        {tab === 'library' ? <Library onError={setError} /> : null}
        {tab === 'editor' && editing ? <TemplateEditor key={editing.id} template={editing} /> : null}
        {tab === 'backtests' ? <BacktestPanel /> : null}
      </div>
    </section>
  );
}
