import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { PRIVACY_DELETION, PRIVACY_EXPORT, PRIVACY_INTRO, STORED_TABLES } from '../../../src-shared/privacy.ts';
import { ProblemError } from '../../../src-server/problem.ts';

/** The built renderer's passkey hand-off page, read when asked for, so a rebuild needs no restart. */
export async function authorizePage(dir: string): Promise<Buffer> {
  const page = join(dir, 'authorize.html');
  if (!existsSync(page)) {
    throw new ProblemError(503, 'hosted_pages_missing', 'Pages not built', 'The hosted pages are not built on this server; run `npm run build`.');
  }
  return readFile(page);
}

/** The page's scripts and styles, when the renderer has been built. */
export const assetsDir = (dir: string): string | undefined => (existsSync(join(dir, 'assets')) ? join(dir, 'assets') : undefined);

const escapeHtml = (text: string) => text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

/** The Privacy page for the hosted site: the same words as the app's, as plain HTML (no script). */
export function privacyPage(): string {
  const paragraphs = (texts: readonly string[]) => texts.map((text) => `<p>${escapeHtml(text)}</p>`).join('\n');
  const rows = STORED_TABLES.map((row) => `<tr><th scope="row"><code>${escapeHtml(row.table)}</code></th><td>${escapeHtml(row.holds)}</td><td>${escapeHtml(row.kept)}</td></tr>`).join('\n');
  return `<!doctype html>
<html lang="en">
<head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1"><title>Privacy · plutarc</title></head>
<body>
<main>
<h1>Privacy</h1>
${paragraphs(PRIVACY_INTRO)}
<table>
<caption>What the EU database keeps</caption>
<thead><tr><th scope="col">Table</th><th scope="col">What it holds</th><th scope="col">How long</th></tr></thead>
<tbody>
${rows}
</tbody>
</table>
<h2>Export my data</h2>
${paragraphs([PRIVACY_EXPORT])}
<h2>Delete account</h2>
${paragraphs(PRIVACY_DELETION)}
</main>
</body>
</html>
`;
}
