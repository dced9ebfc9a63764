import { useState } from 'react';
import { PRIVACY_DELETION, PRIVACY_EXPORT, PRIVACY_INTRO, STORED_TABLES } from '../../../src-shared/privacy.ts';
import { Alert } from '../components/Alert.tsx';
import { DeleteAccountDialog } from '../components/DeleteAccountDialog.tsx';
import { selectUser, useIdentityStore } from '../stores/identity.ts';
import { errorOf } from '../stores/reverification.ts';
import { useYourDataStore } from '../stores/your-data.ts';
import '../your-data.css';

/** Your data: what plutarc keeps, where and for how long, what an export gives and what deletion removes. */
export function YourDataPage() {
  const user = useIdentityStore(selectUser);
  const exporting = useYourDataStore((s) => s.exporting);
  const exportData = useYourDataStore((s) => s.exportData);
  const [exportNote, setExportNote] = useState<string | null>(null);
  const [exportError, setExportError] = useState<string | null>(null);
  const [deleting, setDeleting] = useState(false);

  const runExport = async () => {
    setExportNote(null);
    setExportError(null);
    const result = await exportData();
    setExportError(errorOf(result));
    if (!result.ok) return;
    if (result.value.state === 'saved') setExportNote(`Saved to ${result.value.files.join(' and ')}.`);
    else if (result.value.state === 'download') setExportNote(`Downloading ${result.value.files.map((f) => f.name).join(' and ')}.`);
  };

  return (
    <section aria-labelledby="your-data-title" className="security">
      <header className="page-header">
        <h1 id="your-data-title">Your data</h1>
      </header>
      <section aria-labelledby="privacy-title" className="security-panel">
        <h2 id="privacy-title">Privacy</h2>
        {PRIVACY_INTRO.map((paragraph) => (
          <p key={paragraph}>{paragraph}</p>
        ))}
        <table className="stored-tables" data-testid="stored-tables">
          <caption>What the EU database keeps</caption>
          <thead>
            <tr>
              <th scope="col">Table</th>
              <th scope="col">What it holds</th>
              <th scope="col">How long</th>
            </tr>
          </thead>
          <tbody>
            {STORED_TABLES.map((row) => (
              <tr key={row.table}>
                <th scope="row">
                  <code>{row.table}</code>
                </th>
                <td>{row.holds}</td>
                <td>{row.kept}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </section>
      <section aria-labelledby="export-title" className="security-panel">
        <h2 id="export-title">Export my data</h2>
        <p>{PRIVACY_EXPORT}</p>
        <button type="button" className="primary" onClick={() => void runExport()} disabled={exporting}>
          {exporting ? 'Exporting…' : 'Export my data'}
        </button>
        {exportNote ? (
          <p role="status" data-testid="export-note">
            {exportNote}
          </p>
        ) : null}
        <Alert message={exportError} />
      </section>
      <section aria-labelledby="deletion-title" className="security-panel">
        <h2 id="deletion-title">Delete account</h2>
        {PRIVACY_DELETION.map((paragraph) => (
          <p key={paragraph}>{paragraph}</p>
        ))}
        <button type="button" className="danger" onClick={() => setDeleting(true)}>
          Delete account…
        </button>
        {deleting && user ? <DeleteAccountDialog email={user.email} onClose={() => setDeleting(false)} /> : null}
      </section>
    </section>
  );
}
