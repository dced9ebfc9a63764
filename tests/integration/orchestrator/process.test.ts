// The orchestrator as a process (`node src-orchestrator/main.ts`) against a stand-in of the API's internal routes:
// bad settings and unsafe token files stop it before it does anything, saying why without the secret; running, it
// takes its bots' leases; on SIGTERM it gives them up and exits cleanly.
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chmodSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ORCHESTRATOR_ROUTES } from '../../../src-shared/orchestration.ts';
import { startKeeperInProcess, type InProcessKeeper } from '../../support/keeper.ts';
import { tempDir } from '../../support/temp.ts';
import { waitFor } from '../../support/wait.ts';
import { desiredBot } from '../../unit/orchestrator/fakes.ts';
import { startService } from './full-stack.ts';
import { startFakeApi, type FakeApi } from './fake-api.ts';

describe('the orchestrator process', () => {
  let api: FakeApi;
  let dir: ReturnType<typeof tempDir>;
  let apiTokenFile: string;
  let brokerTokenFile: string;
  let keeper: InProcessKeeper;
  beforeEach(async () => {
    api = await startFakeApi(Date.now());
    dir = tempDir('plutarc-orchestrator-process-');
    chmodSync(dir.path, 0o711);
    keeper = await startKeeperInProcess({ runRoot: join(dir.path, 'instances') });
    apiTokenFile = join(dir.path, 'orchestrator-token');
    writeFileSync(apiTokenFile, `${api.token}\n`, { mode: 0o600 });
    brokerTokenFile = join(dir.path, 'broker-orchestrator-token');
    writeFileSync(brokerTokenFile, `${randomBytes(32).toString('base64url')}\n`, { mode: 0o600 });
  });
  afterEach(async () => {
    await keeper.stop();
    await api.close();
    dir.cleanup();
  });

  const env = () => ({
    PLUTARC_API_URL: api.url,
    PLUTARC_ORCHESTRATOR_TOKEN_FILE: apiTokenFile,
    // Nothing listens here: a provision fails at the credential, which this test does not need.
    PLUTARC_KEYBROKER_URL: 'http://127.0.0.1:9',
    PLUTARC_KEYBROKER_ORCHESTRATOR_TOKEN_FILE: brokerTokenFile,
    PLUTARC_ORCHESTRATOR_ID: 'orch-process',
    PLUTARC_KEEPER_SOCKET: keeper.socketPath,
    PLUTARC_LOG_LEVEL: 'warn',
  });

  /** Runs it to its exit, for settings it must refuse. */
  const refused = (extra: Record<string, string>) =>
    new Promise<{ code: number | null; output: string }>((resolve) => {
      const child = spawn(process.execPath, [join(import.meta.dirname, '../../../src-orchestrator/main.ts')], {
        env: { PATH: process.env.PATH ?? '/usr/bin:/bin', ...env(), ...extra },
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      let output = '';
      child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
      child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
      child.once('exit', (code) => resolve({ code, output }));
    });

  it('refuses to start with a token in its environment, a missing setting, no keeper or a token file others may read', async () => {
    const inEnv = await refused({ PLUTARC_ORCHESTRATOR_TOKEN: api.token });
    expect(inEnv.code).toBe(78);
    expect(inEnv.output).toContain('PLUTARC_ORCHESTRATOR_TOKEN: key material is never read from the environment');
    expect(inEnv.output).not.toContain(api.token);

    expect(await refused({ PLUTARC_API_URL: 'not a url' })).toMatchObject({ code: 78, output: expect.stringContaining('PLUTARC_API_URL') });

    const noKeeper = await refused({ PLUTARC_KEEPER_SOCKET: join(dir.path, 'no-keeper.sock') });
    expect(noKeeper).toMatchObject({ code: 78, output: expect.stringContaining(`cannot reach the keeper at ${join(dir.path, 'no-keeper.sock')}`) });

    chmodSync(apiTokenFile, 0o644);
    const open = await refused({});
    expect(open.code).toBe(78);
    expect(open.output).toContain(`${apiTokenFile} is open to other users (mode 644)`);
    expect(open.output).not.toContain(api.token);
    // It never got as far as the API.
    expect(api.requests).toEqual([]);
  });

  it('takes its bots’ leases while it runs, and on SIGTERM gives them up and exits 0', async () => {
    api.put(desiredBot({ botId: 'b1' }));
    api.put(desiredBot({ botId: 'b2' }));
    const orchestrator = await startService('orchestrator', 'src-orchestrator/main.ts', env());
    try {
      expect(orchestrator.ready).toMatchObject({ type: 'ready', service: 'orchestrator', orchestratorId: 'orch-process' });
      await waitFor(() => ['b1', 'b2'].every((botId) => api.leases.get(botId)?.holder === 'orch-process'), { what: 'both leases taken' });
      // The long poll waits on the API for the next change.
      await waitFor(() => api.requests.some((r) => r.url.startsWith(`${ORCHESTRATOR_ROUTES.desired}?`) && r.url.includes('since=')), { what: 'the long poll' });
      orchestrator.child.kill('SIGTERM');
      expect(await orchestrator.exited).toEqual({ code: 0, signal: null });
      expect(api.leases.size).toBe(0);
      expect(api.requests.filter((r) => r.method === 'DELETE' && r.url === ORCHESTRATOR_ROUTES.leases)).toHaveLength(1);
      expect(api.requests.every((r) => r.authorised)).toBe(true);
    } finally {
      await orchestrator.stop('SIGKILL');
    }
  });
});
