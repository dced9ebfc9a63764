import { useEffect, useState } from 'react';
import { NOTIFICATION_KIND_LABELS, NotificationKind } from '../../../src-shared/notifications.ts';
import { Alert } from '../components/Alert.tsx';
import { formatWhen } from '../format.ts';
import { useAppStore } from '../stores/app.ts';
import { useTrayStore } from '../stores/tray.ts';
import { askWebNotificationPermission, webNotificationPermission, type WebNotificationPermission } from '../web-notifications.ts';

const PERMISSION_WORDS: Readonly<Record<WebNotificationPermission, string>> = {
  granted: 'This browser shows plutarc’s notifications.',
  default: 'This browser will ask whether to show plutarc’s notifications the first time there is one.',
  denied: 'This browser blocks plutarc’s notifications. Allow them in the site settings of your browser to see them.',
  unsupported: 'This browser cannot show notifications.',
};

/** The browser host only: whether this browser will show notifications, and a way to ask now. */
function BrowserPermission() {
  const [permission, setPermission] = useState<WebNotificationPermission>(webNotificationPermission);
  return (
    <p className="muted" data-testid="web-notification-permission">
      {PERMISSION_WORDS[permission]}{' '}
      {permission === 'default' ? (
        <button type="button" onClick={() => void askWebNotificationPermission().then(setPermission)}>
          Allow notifications now
        </button>
      ) : null}
    </p>
  );
}

function isMuted(mutedUntil: string | null, now: number): boolean {
  return mutedUntil !== null && Date.parse(mutedUntil) > now;
}

/** What plutarc tells the user outside its window, and how it starts. */
export function SettingsPage() {
  const settings = useTrayStore((s) => s.settings);
  const error = useTrayStore((s) => s.settingsError);
  const { setKind, muteForAnHour, unmute, setStartAtLogin } = useTrayStore();
  const host = useAppStore((s) => s.info?.host);
  // The mute ends by itself: look again when it does, so the page does not say "muted" after it ended.
  const [now, setNow] = useState(() => Date.now());
  const mutedUntil = settings?.notifications.mutedUntil ?? null;
  useEffect(() => {
    if (!mutedUntil) return;
    const left = Date.parse(mutedUntil) - Date.now();
    if (left <= 0) return;
    const timer = setTimeout(() => setNow(Date.now()), left + 50);
    return () => clearTimeout(timer);
  }, [mutedUntil]);

  return (
    <section aria-labelledby="settings-title" className="settings">
      <header className="page-header">
        <h1 id="settings-title">Settings</h1>
      </header>
      <Alert message={error} />
      {!settings ? (
        <p className="placeholder">Loading the settings…</p>
      ) : (
        <>
          <section aria-labelledby="notifications-title" className="panel">
            <h2 id="notifications-title">Notifications</h2>
            {host === 'browser' ? <BrowserPermission /> : null}
            <p className="muted" aria-live="polite" data-testid="mute-state">
              {isMuted(mutedUntil, now) ? `Every notification is muted until ${formatWhen(mutedUntil)}.` : 'Notifications are on for the kinds switched on below.'}
            </p>
            <p>
              {isMuted(mutedUntil, now) ? (
                <button type="button" onClick={() => void unmute()}>
                  Unmute
                </button>
              ) : (
                <button type="button" onClick={() => void muteForAnHour()}>
                  Mute all for an hour
                </button>
              )}
            </p>
            <ul className="switches">
              {NotificationKind.options.map((kind) => (
                <li key={kind}>
                  <label className="switch">
                    <input
                      type="checkbox"
                      role="switch"
                      checked={!settings.notifications.off.includes(kind)}
                      onChange={(event) => void setKind(kind, event.currentTarget.checked)}
                    />
                    {NOTIFICATION_KIND_LABELS[kind]}
                  </label>
                </li>
              ))}
            </ul>
          </section>
          {settings.startAtLogin.supported ? (
            <section aria-labelledby="startup-title" className="panel">
              <h2 id="startup-title">Start</h2>
              <label className="switch">
                <input type="checkbox" role="switch" checked={settings.startAtLogin.enabled} onChange={(event) => void setStartAtLogin(event.currentTarget.checked)} />
                Start plutarc when I log in to this computer
              </label>
            </section>
          ) : null}
        </>
      )}
    </section>
  );
}
