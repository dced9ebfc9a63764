import { useEffect, type JSX } from 'react';
import { AccountBox } from './components/AccountBox.tsx';
import { IdentityGate } from './components/IdentityGate.tsx';
import { StatusBar } from './components/StatusBar.tsx';
import { Toasts } from './components/Toasts.tsx';
import { TrayStatusPanel } from './components/tray/TrayStatusPanel.tsx';
import { BotsPage } from './pages/BotsPage.tsx';
import { KeysPage } from './pages/KeysPage.tsx';
import { RegionsPage } from './pages/RegionsPage.tsx';
import { SecurityPage } from './pages/SecurityPage.tsx';
import { SettingsPage } from './pages/SettingsPage.tsx';
import { TemplatesPage } from './pages/TemplatesPage.tsx';
import { TradesPage } from './pages/TradesPage.tsx';
import { YourDataPage } from './pages/YourDataPage.tsx';
import { useAppStore } from './stores/app.ts';
import { useBotsStore } from './stores/bots.ts';
import { useNavigationStore, type PageId } from './stores/navigation.ts';
import { useTrayStore } from './stores/tray.ts';

const PAGES = [
  { id: 'regions', label: 'Regions', shortcut: '1', render: () => <RegionsPage /> },
  { id: 'security', label: 'Security', shortcut: '2', render: () => <SecurityPage /> },
  { id: 'keys', label: 'Keys', shortcut: '3', render: () => <KeysPage /> },
  { id: 'strategies', label: 'Strategies', shortcut: '4', render: () => <TemplatesPage /> },
  { id: 'bots', label: 'Bots', shortcut: '5', render: () => <BotsPage /> },
  { id: 'settings', label: 'Settings', shortcut: '6', render: () => <SettingsPage /> },
  { id: 'your-data', label: 'Your data', shortcut: '7', render: () => <YourDataPage /> },
  { id: 'trades', label: 'Trades', shortcut: '8', render: () => <TradesPage /> },
] as const satisfies readonly { id: PageId; label: string; shortcut: string; render: () => JSX.Element }[];

export function App() {
  const connect = useAppStore((s) => s.connect);
  const connectTray = useTrayStore((s) => s.connect);
  // Pages are addresses (`#/keys`, `#/bots/<id>`), so a notification, the tray or the Back button can open one.
  const page = useNavigationStore((s) => s.page);
  const go = useNavigationStore((s) => s.go);
  const followHash = useNavigationStore((s) => s.followHash);
  const connectBots = useBotsStore((s) => s.connect);

  useEffect(() => connect(), [connect]);
  useEffect(() => connectTray(), [connectTray]);
  useEffect(() => followHash(), [followHash]);
  // The bots list is live from the start, whichever page is open.
  useEffect(() => connectBots(), [connectBots]);

  // Ctrl/Cmd + number jumps between pages.
  useEffect(() => {
    const onKey = (event: KeyboardEvent) => {
      if (!(event.ctrlKey || event.metaKey) || event.altKey) return;
      const target = PAGES.find((p) => p.shortcut === event.key);
      if (target) {
        event.preventDefault();
        go(target.id);
      }
    };
    window.addEventListener('keydown', onKey);
    return () => window.removeEventListener('keydown', onKey);
  }, [go]);

  const current = PAGES.find((p) => p.id === page) ?? PAGES[0];
  return (
    <IdentityGate>
      <div className="shell">
        <nav className="sidebar" aria-label="Main">
          <div className="brand">plutarc</div>
          <ul>
            {PAGES.map((p) => (
              <li key={p.id}>
                <button
                  type="button"
                  className={p.id === page ? 'nav-item active' : 'nav-item'}
                  aria-current={p.id === page ? 'page' : undefined}
                  onClick={() => go(p.id)}
                  title={`${p.label} (Ctrl+${p.shortcut})`}
                >
                  {p.label}
                </button>
              </li>
            ))}
          </ul>
          <AccountBox />
        </nav>
        <div className="main-column">
          <header className="app-header">
            <TrayStatusPanel />
          </header>
          <main className="content">{current.render()}</main>
        </div>
        <Toasts />
        <StatusBar />
      </div>
    </IdentityGate>
  );
}
