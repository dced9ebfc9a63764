import { fork, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { MAX_CSV_BYTES } from '../../../src-shared/ipc-templates.ts';
import { startTestApi, type TestApi } from '../../support/api.ts';
import { ROOT } from '../../support/build.ts';
import { tempDir } from '../../support/temp.ts';

interface Ready {
  type: 'ready';
  url: string;
}

/** The browser host as `npm start` runs it: its own process, reporting its launch link over IPC. */
function startHostProcess(apiUrl: string, dataDir: string): Promise<{ child: ChildProcess; launchUrl: URL; stderr: () => string }> {
  const child = fork(join(ROOT, 'src-main/browser-host/main.ts'), [], {
    env: { PATH: process.env.PATH ?? '', PLUTARC_API_URL: apiUrl, PLUTARC_APP_DATA_DIR: dataDir },
    stdio: ['ignore', 'ignore', 'pipe', 'ipc'],
  });
  let stderr = '';
  child.stderr?.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  return new Promise((resolve, reject) => {
    child.once('exit', (code, signal) => reject(new Error(`browser host exited (${code ?? signal}): ${stderr}`)));
    child.on('message', (message: Ready) => {
      if (message.type === 'ready') resolve({ child, launchUrl: new URL(message.url), stderr: () => stderr });
    });
  });
}

describe('the browser host process and an oversized bridge frame', () => {
  let api: TestApi;
  let host: Awaited<ReturnType<typeof startHostProcess>>;
  const data = tempDir('plutarc-host-');
  beforeAll(async () => {
    api = await startTestApi();
    host = await startHostProcess(api.url, data.path);
  });
  afterAll(async () => {
    if (host.child.exitCode === null) {
      const exited = new Promise((resolve) => host.child.once('exit', resolve));
      host.child.kill('SIGTERM');
      await exited;
    }
    await api.close();
    data.cleanup();
  });

  const open = (): Promise<WebSocket> => {
    const secret = new URLSearchParams(host.launchUrl.hash.slice(1)).get('launch') ?? '';
    const socket = new WebSocket(`ws://${host.launchUrl.host}/bridge`, ['plutarc-bridge', `launch.${secret}`], { origin: host.launchUrl.origin });
    return new Promise((resolve, reject) => {
      socket.once('open', () => resolve(socket));
      socket.once('error', reject);
    });
  };

  /** The answer, or a failure as soon as the host process ends: a dead host must not look like a slow one. */
  const unlessHostDies = <T>(answer: Promise<T>): Promise<T> =>
    Promise.race([
      answer,
      new Promise<never>((_resolve, reject) => {
        const died = () => reject(new Error(`the browser host died: ${host.stderr().slice(0, 400)}`));
        if (host.child.exitCode !== null || host.child.signalCode !== null) died();
        else host.child.once('exit', died);
      }),
    ]);

  it('closes only the connection that sent a frame over its limit (the largest candle file and 1 MiB), and keeps serving', async () => {
    const flooder = await open();
    const bystander = await open();
    const closed = new Promise<number>((resolve) => flooder.once('close', (code) => resolve(code)));
    // A password longer than the largest candle file pasted into the sign-in form, as the page would send it.
    const password = 'x'.repeat(MAX_CSV_BYTES + 1_150_000);
    flooder.send(JSON.stringify({ t: 'invoke', id: 1, channel: 'identity.signIn', input: { email: 'a@example.test', password } }));
    expect(await closed).toBe(1009);

    const reply = await unlessHostDies(
      new Promise<{ id: number; result: { ok: boolean } }>((resolve) => {
        bystander.once('message', (data) => resolve(JSON.parse(data.toString()) as { id: number; result: { ok: boolean } }));
        bystander.send(JSON.stringify({ t: 'invoke', id: 2, channel: 'regions.list' }));
      }),
    );
    expect(reply).toMatchObject({ id: 2, result: { ok: true } });
    const again = await open();
    again.close();
    bystander.close();
    expect(host.child.exitCode).toBeNull();
    expect(host.stderr()).toContain('socket error (WS_ERR_UNSUPPORTED_MESSAGE_LENGTH)');
    expect(host.stderr()).not.toContain('xxxxxxxx');
  });
});
