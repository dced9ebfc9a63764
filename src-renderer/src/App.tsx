import { useEffect, useState } from 'react';
import { parseWindowHash } from '../../src-shared/notifications.ts';
import { AccountBox } from './components/AccountBox.tsx';
import { IdentityGate } from './components/IdentityGate.tsx';
import { StatusBar } from './components/StatusBar.tsx';
import { Toasts } from './components/Toasts.tsx';
import { TrayStatusPanel } from './components/tray/TrayStatusPanel.tsx';
import { BotGlancePage } from './pages/BotGlancePage.tsx';
import { KeysPage } from './pages/KeysPage.tsx';
import { RegionsPage } from './pages/RegionsPage.tsx';
import { SecurityPage } from './pages/SecurityPage.tsx';
import { SettingsPage } from './pages/SettingsPage.tsx';
import { TemplatesPage } from './pages/TemplatesPage.tsx';
import { YourDataPage } from './pages/YourDataPage.tsx';
import { useAppStore } from './stores/app.ts';
import { useTrayStore } from './stores/tray.ts';

const PAGES = [
  { id: 'regions', label: 'Regions', shortcut: '1', render: () => <RegionsPage /> },
  { id: 'security', label: 'Security', shortcut: '2', render: () => <SecurityPage /> },
  { id: 'keys', label: 'Keys', shortcut: '3', render: () => <KeysPage /> },
  { id: 'strategies', label: 'Strategies', shortcut: '4', render: () => <TemplatesPage /> },
  { id: 'settings', label: 'Settings', shortcut: '6', render: () => <SettingsPage /> },
  { id: 'your-data', label: 'Your data', shortcut: '9', render: () => <YourDataPage /> },
] as const;
type PageId = (typeof PAGES)[number]['id'];
type Route = { page: PageId } | { page: 'bot'; botId: string };

/** The page an address names (`#/keys`, `#/bots/<id>`, what a notification opens); the first page for anything else. */
function routeOf(hash: string): Route {
  const target = parseWindowHash(hash);
  if (target?.page === 'bot') return { page: 'bot', botId: target.botId };
  const named = PAGES.find((p) => `#/${p.id}` === hash);
  return { page: named?.id ?? 'regions' };
}

/** Pages are addresses, so a notification, the tray or the back button can open one. */
function go(page: PageId): void {
  window.location.hash = `#/${page}`;
}

export function App() {
  const connect = useAppStore((s) => s.connect);
  const connectTray = useTrayStore((s) => s.connect);
  const [route, setRoute] = useState<Route>(() => routeOf(window.location.hash));
  const page = route.page;

  useEffect(() => connect(), [connect]);
  useEffect(() => connectTray(), [connectTray]);
  useEffect(() => {
    const follow = () => setRoute(routeOf(window.location.hash));
    window.addEventListener('hashchange', follow);
    return () => window.removeEventListener('hashchange', follow);
  }, []);

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
  }, []);

  const current = route.page === 'bot' ? null : (PAGES.find((p) => p.id === route.page) ?? PAGES[0]);
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
          <main className="content">{route.page === 'bot' ? <BotGlancePage key={route.botId} botId={route.botId} /> : current?.render()}</main>
        </div>
        <Toasts />
        <StatusBar />
      </div>
    </IdentityGate>
  );
}
