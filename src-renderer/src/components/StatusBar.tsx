import { useAppStore } from '../stores/app.ts';

const LABEL = { connecting: 'Connecting to the API…', online: 'API online', offline: 'API offline' } as const;

export function StatusBar() {
  const info = useAppStore((s) => s.info);
  const status = useAppStore((s) => s.apiStatus);
  return (
    <footer className="statusbar">
      <span className={`dot dot-${status.state}`} aria-hidden="true" />
      {/* A footer may not carry role=status: the live region is the API's state, not the whole bar. */}
      <span role="status" aria-live="polite">
        <span data-testid="api-status">{LABEL[status.state]}</span>
        {status.state === 'offline' && status.detail ? <span className="muted"> — {status.detail}</span> : null}
      </span>
      <span className="spacer" />
      {info ? (
        <span className="muted">
          plutarc {info.version} · {info.host === 'browser' ? 'browser host' : 'desktop'} · {info.apiUrl}
        </span>
      ) : null}
    </footer>
  );
}
