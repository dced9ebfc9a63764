import { PRIVACY_DELETION, PRIVACY_EXPORT, PRIVACY_INTRO, STORED_TABLES } from '../../../src-shared/privacy.ts';

/** Your data: what plutarc keeps, where and for how long, what an export gives and what deletion removes. */
export function YourDataPage() {
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
        <table data-testid="stored-tables">
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
      </section>
      <section aria-labelledby="deletion-title" className="security-panel">
        <h2 id="deletion-title">Delete account</h2>
        {PRIVACY_DELETION.map((paragraph) => (
          <p key={paragraph}>{paragraph}</p>
        ))}
      </section>
    </section>
  );
}
