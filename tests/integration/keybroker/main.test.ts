import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { tempDir } from '../../support/temp.ts';

const MAIN = fileURLToPath(new URL('../../../src-keybroker/main.ts', import.meta.url));

function startProcess(env: Record<string, string>): { child: ChildProcess; exited: Promise<number | null>; output: () => string } {
  const child = spawn(process.execPath, [MAIN], { env: { PATH: process.env.PATH ?? '', ...env }, stdio: ['ignore', 'pipe', 'pipe', 'ipc'] });
  let output = '';
  child.stdout?.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr?.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  return { child, exited, output: () => output };
}

describe('the key broker process', () => {
  const cleanups: (() => void)[] = [];
  afterEach(() => {
    for (const cleanup of cleanups.splice(0)) cleanup();
  });

  it('reports ready with its url and file paths over IPC, serves, and stops when its supervisor goes away', async () => {
    const dir = tempDir('plutarc-keybroker-main-');
    cleanups.push(dir.cleanup);
    const dataDir = join(dir.path, 'data');
    const { child, exited } = startProcess({ PLUTARC_KEYBROKER_DATA_DIR: dataDir, PLUTARC_KEYBROKER_PORT: '0', PLUTARC_LOG_LEVEL: 'warn' });
    cleanups.push(() => child.kill('SIGKILL'));
    const ready = await new Promise<Record<string, string>>((resolve) => child.once('message', (m) => resolve(m as Record<string, string>)));
    expect(ready).toEqual({
      type: 'ready',
      service: 'keybroker',
      url: expect.stringMatching(/^http:\/\/127\.0\.0\.1:\d+$/),
      identityPublicKeyFile: join(dataDir, 'identity.pub.jwk'),
      serviceTokenFile: join(dataDir, 'service-token'),
      orchestratorTokenFile: join(dataDir, 'orchestrator-token'),
    });
    expect(existsSync(ready.identityPublicKeyFile!)).toBe(true);
    expect((await fetch(`${ready.url}/v1/health`)).status).toBe(200);
    child.disconnect();
    expect(await exited).toBe(0);
  });

  it('exits 78 on bad configuration without echoing a secret', async () => {
    const { exited, output } = startProcess({ PLUTARC_KEYBROKER_MASTER_KEY: 'do-not-print-me-0123456789' });
    expect(await exited).toBe(78);
    expect(output()).toContain('PLUTARC_KEYBROKER_MASTER_KEY');
    expect(output()).not.toContain('do-not-print-me');
  });
});
