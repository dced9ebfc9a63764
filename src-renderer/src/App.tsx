import { useEffect, useState } from 'react';
import { AccountBox } from './components/AccountBox.tsx';
import { IdentityGate } from './components/IdentityGate.tsx';
import { StatusBar } from './components/StatusBar.tsx';
import { Toasts } from './components/Toasts.tsx';
import { KeysPage } from './pages/KeysPage.tsx';
import { RegionsPage } from './pages/RegionsPage.tsx';
import { SecurityPage } from './pages/SecurityPage.tsx';
import { TemplatesPage } from './pages/TemplatesPage.tsx';
import { YourDataPage } from './pages/YourDataPage.tsx';
import { useAppStore } from './stores/app.ts';

const PAGES = [
  { id: 'regions', label: 'Regions', shortcut: '1', render: () => <RegionsPage /> },
  { id: 'security', label: 'Security', shortcut: '2', render: () => <SecurityPage /> },
  { id: 'keys', label: 'Keys', shortcut: '3', render: () => <KeysPage /> },
  { id: 'strategies', label: 'Strategies', shortcut: '4', render: () => <TemplatesPage /> },
  { id: 'your-data', label: 'Your data', shortcut: '9', render: () => <YourDataPage /> },
] as const;
type PageId = (typeof PAGES)[number]['id'];

export function App() {
  const connect = useAppStore((s) => s.connect);
  const [page, setPage] = useState<PageId>('regions');

  useEffect(() => connect(), [connect]);

  // Ctrl/Cmd + number jumps between pages.
  useEffect(() => {
    const onKey = (event: KeyboardEvent) => {
      if (!(event.ctrlKey || event.metaKey) || event.altKey) return;
      const target = PAGES.find((p) => p.shortcut === event.key);
      if (target) {
        event.preventDefault();
        setPage(target.id);
      }
    };
    window.addEventListener('keydown', onKey);
    return () => window.removeEventListener('keydown', onKey);
  }, []);

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
                  onClick={() => setPage(p.id)}
                  title={`${p.label} (Ctrl+${p.shortcut})`}
                >
                  {p.label}
                </button>
              </li>
            ))}
          </ul>
          <AccountBox />
        </nav>
        <main className="content">{current.render()}</main>
        <Toasts />
        <StatusBar />
      </div>
    </IdentityGate>
  );
}
