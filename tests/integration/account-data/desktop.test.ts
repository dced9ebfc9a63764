// Main's side of "Your data", against a real API: the export saved where the user picked (Electron) or
// handed to the page as single-use links (browser host), both only after reverification, and deleting the
// account signing this device out.
import { mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dispatchInvoke } from '../../../src-main/services/dispatch.ts';
import { createMainServices, type MainServices } from '../../../src-main/services/main-services.ts';
import type { InvokeChannel, InvokeInput, InvokeOutput } from '../../../src-shared/ipc.ts';
import type { Result } from '../../../src-shared/result.ts';
import { startTestApi, type TestApi } from '../../support/api.ts';
import { GOOD_PASSWORD, uniqueEmail } from '../../support/identity.ts';
import { tempDir } from '../../support/temp.ts';

let api: TestApi;
const dir = tempDir('plutarc-your-data-');
beforeAll(async () => {
  api = await startTestApi();
});
afterAll(async () => {
  await api.close();
  dir.cleanup();
});

/** The desktop's main services, signed up with a fresh account; `savedTo` stands in for the save dialog's answer. */
async function desktop(savedTo?: string | null) {
  const services: MainServices = createMainServices({
    apiUrl: api.url,
    host: savedTo === undefined ? 'browser' : 'electron',
    version: '0.0.0-test',
    ...(savedTo === undefined ? {} : { fileSaver: async () => savedTo }),
  });
  services.start();
  const invoke = <C extends InvokeChannel>(channel: C, input?: InvokeInput<C>) => dispatchInvoke(services.handlers, channel, input) as Promise<Result<InvokeOutput<C>>>;
  const email = uniqueEmail();
  const state = await invoke('identity.register', { email, password: GOOD_PASSWORD });
  if (!state.ok || state.value.state !== 'signedIn') throw new Error(`sign-up failed: ${JSON.stringify(state)}`);
  return { services, invoke, email, userId: state.value.user.id };
}

const text = async (body: NodeJS.ReadableStream) => {
  let out = '';
  for await (const chunk of body) out += String(chunk);
  return out;
};

describe('export from the desktop', () => {
  it('in the browser host: single-use links that stream the account’s JSON and trades, after reverification', async () => {
    const app = await desktop();
    try {
      expect(await app.invoke('yourData.export')).toMatchObject({ ok: false, code: 'reverification_required' });
      expect((await app.invoke('identity.reverifyPassword', { password: GOOD_PASSWORD })).ok).toBe(true);
      const outcome = await app.invoke('yourData.export');
      if (!outcome.ok || outcome.value.state !== 'download') throw new Error(JSON.stringify(outcome));
      const [json, csv] = outcome.value.files;
      expect(json!.name).toMatch(/^plutarc-export-\d{4}-\d{2}-\d{2}\.json$/);
      expect(csv!.name).toMatch(/^plutarc-trades-\d{4}-\d{2}-\d{2}\.csv$/);
      const token = json!.url.slice('/downloads/'.length);
      const download = await app.services.download(token);
      const document = JSON.parse(await text(download.body)) as { tables: { users: { id: string; email: string }[] } };
      expect(document.tables.users).toEqual([expect.objectContaining({ id: app.userId, email: app.email })]);
      // Used once: the same link gives nothing again.
      await expect(app.services.download(token)).rejects.toMatchObject({ code: 'download_expired' });
      const trades = await app.services.download(csv!.url.slice('/downloads/'.length));
      expect((await text(trades.body)).startsWith('time,bot_id,')).toBe(true);
    } finally {
      await app.services.stop();
    }
  });

  it('in Electron: saved where the user picked, the trades beside it', async () => {
    const folder = join(dir.path, 'exports');
    mkdirSync(folder);
    const app = await desktop(join(folder, 'mine.json'));
    try {
      expect((await app.invoke('identity.reverifyPassword', { password: GOOD_PASSWORD })).ok).toBe(true);
      expect(await app.invoke('yourData.export')).toEqual({ ok: true, value: { state: 'saved', files: [join(folder, 'mine.json'), join(folder, 'mine-trades.csv')] } });
      const document = JSON.parse(readFileSync(join(folder, 'mine.json'), 'utf8')) as { format: string; tables: { users: { email: string }[] } };
      expect(document.format).toBe('plutarc-export/1');
      expect(document.tables.users[0]!.email).toBe(app.email);
      expect(readFileSync(join(folder, 'mine-trades.csv'), 'utf8').split('\r\n')[0]).toMatch(/^time,bot_id,/);
    } finally {
      await app.services.stop();
    }
  });

  it('in Electron: nothing is written when the user cancels the save dialog', async () => {
    const app = await desktop(null);
    try {
      expect((await app.invoke('identity.reverifyPassword', { password: GOOD_PASSWORD })).ok).toBe(true);
      expect(await app.invoke('yourData.export')).toEqual({ ok: true, value: { state: 'cancelled' } });
    } finally {
      await app.services.stop();
    }
  });
});

describe('deleting the account from the desktop', () => {
  it('is refused for another email, then accepted and this device signed out', async () => {
    const app = await desktop();
    try {
      expect((await app.invoke('identity.reverifyPassword', { password: GOOD_PASSWORD })).ok).toBe(true);
      expect(await app.invoke('yourData.deleteAccount', { email: `other-${app.email}` })).toMatchObject({ ok: false, code: 'email_mismatch' });
      expect(await app.invoke('identity.state')).toMatchObject({ ok: true, value: { state: 'signedIn' } });
      const accepted = await app.invoke('yourData.deleteAccount', { email: app.email });
      expect(accepted).toMatchObject({ ok: true, value: { step: 'stopping_bots' } });
      expect(await app.invoke('identity.state')).toMatchObject({ ok: true, value: { state: 'signedOut' } });
      await api.app.deletions.settled();
      expect(await api.app.database.db.selectFrom('users').select('id').where('id', '=', app.userId).executeTakeFirst()).toBeUndefined();
    } finally {
      await app.services.stop();
    }
  });
});
