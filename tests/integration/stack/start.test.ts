import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, readFileSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { ROOT } from '../../support/build.ts';
import { isAlive, STACK_TEST_TIMEOUT_MS, startStack, type RunningStack } from '../../support/stack.ts';
import { tempDir } from '../../support/temp.ts';

/** Every process whose process group is one of these (the services and anything they started). */
const groupMembers = (groups: number[]): number[] =>
  spawnSync('ps', ['-eo', 'pid=,pgid='], { encoding: 'utf8' })
    .stdout.split('\n')
    .map((line) => line.trim().split(/\s+/).map(Number))
    .filter(([pid, pgid]) => pid && groups.includes(pgid!))
    .map(([pid]) => pid!);

describe('npm start', { timeout: STACK_TEST_TIMEOUT_MS }, () => {
  const dirs: { cleanup(): void }[] = [];
  const stacks: RunningStack[] = [];
  afterEach(() => {
    for (const stack of stacks.splice(0)) stack.process.kill('SIGKILL');
    for (const dir of dirs.splice(0)) dir.cleanup();
  });
  const dataDir = () => {
    const dir = tempDir('plutarc-stack-');
    dirs.push(dir);
    return dir.path;
  };

  it('starts the key broker, the exchange simulator, the API, the keeper, the bot orchestrator and the app, and Ctrl+C leaves no child process behind', async () => {
    const stack = await startStack(dataDir());
    stacks.push(stack);
    const children = stack.lock().children;
    expect(children.map((c) => c.name)).toEqual(['keybroker', 'exchange-sim', 'api', 'keeper', 'orchestrator', 'app']);
    expect(stack.launchUrl).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/#launch=[\w-]{40,}$/);
    const page = await fetch(new URL('/', stack.launchUrl));
    expect(page.status).toBe(200);
    const groups = children.map((c) => c.pid);
    expect(groupMembers(groups).length).toBeGreaterThanOrEqual(6);

    stack.process.kill('SIGINT');
    expect(await stack.exited).toBe(0);
    for (const child of children) expect(isAlive(child.pid), child.name).toBe(false);
    expect(groupMembers(groups)).toEqual([]);
    expect(stack.output()).toContain('plutarc: stopped.');
  });

  it('keeps its data in the data folder, private to the user', async () => {
    const dir = dataDir();
    const stack = await startStack(dir);
    stacks.push(stack);
    expect(existsSync(join(dir, 'api', 'plutarc.db'))).toBe(true);
    const { statSync } = await import('node:fs');
    expect(statSync(dir).mode & 0o777).toBe(0o700);
    expect(statSync(join(dir, 'stack.lock')).mode & 0o777).toBe(0o600);
    stack.process.kill('SIGTERM');
    expect(await stack.exited).toBe(0);
    expect(existsSync(join(dir, 'stack.lock'))).toBe(false);
  });

  it('says a second start is already running instead of fighting over ports or the database', async () => {
    const dir = dataDir();
    const stack = await startStack(dir);
    stacks.push(stack);
    const second = spawnSync(process.execPath, [join(ROOT, 'src-main/stack/start.ts')], {
      cwd: ROOT,
      env: { ...process.env, PLUTARC_DATA_DIR: dir, PLUTARC_HOST: 'browser', PLUTARC_SKIP_BUILD: '1', PLUTARC_OPEN_BROWSER: '0' },
      encoding: 'utf8',
      timeout: 20_000,
    });
    expect(second.status).toBe(1);
    expect(second.stdout).toContain(`already running (pid ${stack.process.pid}`);
    expect(second.stdout).toContain(stack.launchUrl);
    // The first one is untouched.
    expect((await fetch(new URL('/', stack.launchUrl))).status).toBe(200);
    stack.process.kill('SIGINT');
    await stack.exited;
  });

  it('takes over a lock left by a stack that crashed', async () => {
    const dir = dataDir();
    writeFileSync(join(dir, 'stack.lock'), JSON.stringify({ pid: 2 ** 22 - 1, startedAt: '2026-01-01T00:00:00Z', children: [] }));
    const stack = await startStack(dir);
    stacks.push(stack);
    expect(JSON.parse(readFileSync(join(dir, 'stack.lock'), 'utf8')).pid).toBe(stack.process.pid);
    stack.process.kill('SIGINT');
    await stack.exited;
  });

  it('refuses a bots’ folder in the temp folder that is not its own (a name someone else took first)', async () => {
    const dir = dataDir();
    const squatted = join(tmpdir(), `plutarc-stack-${createHash('sha256').update(dir).digest('hex').slice(0, 16)}`);
    const elsewhere = dataDir();
    symlinkSync(elsewhere, squatted);
    try {
      const refused = await startStack(dir).then(
        (stack) => {
          stacks.push(stack);
          return null;
        },
        (error: Error) => error,
      );
      expect(refused?.message).toContain(`${squatted} exists but is not a folder of this user`);
    } finally {
      rmSync(squatted, { force: true });
    }
  });

  it('stops everything when a service keeps crashing, and says which', { timeout: 90_000 }, async () => {
    const dir = dataDir();
    const stack = await startStack(dir);
    stacks.push(stack);
    const api = stack.lock().children.find((c) => c.name === 'api')!;
    const app = stack.lock().children.find((c) => c.name === 'app')!;
    process.kill(api.pid, 'SIGKILL');
    // Its database turned to garbage: every restart dies before it is ready.
    for (const suffix of ['-wal', '-shm']) rmSync(join(dir, 'api', `plutarc.db${suffix}`), { force: true });
    writeFileSync(join(dir, 'api', 'plutarc.db'), 'not a database '.repeat(512));
    expect(await stack.exited).toBe(1);
    expect(stack.output()).toContain('api stopped unexpectedly (SIGKILL); starting it again in 0.5 s.');
    expect(stack.output()).toMatch(/api crashed 5 times in a row \(last: exit code \d+\); giving up on it and stopping the stack\./);
    expect(isAlive(app.pid)).toBe(false);
  });
  it('gives the API and the orchestrator their tokens’ paths, never the tokens, and pins the broker identity on first start', async () => {
    const dir = dataDir();
    const stack = await startStack(dir);
    stacks.push(stack);
    const tokenFiles = [join(dir, 'keybroker', 'service-token'), join(dir, 'keybroker', 'orchestrator-token'), join(dir, 'orchestrator-token')];
    const tokens = tokenFiles.map((file) => readFileSync(file, 'utf8').trim());
    for (const file of tokenFiles) expect(statSync(file).mode & 0o777, file).toBe(0o600);
    expect(new Set(tokens).size).toBe(3);
    for (const child of stack.lock().children) {
      const environ = readFileSync(`/proc/${child.pid}/environ`);
      const argv = readFileSync(`/proc/${child.pid}/cmdline`);
      for (const token of tokens) {
        expect(environ.includes(token), `${child.name}'s environment`).toBe(false);
        expect(argv.includes(token), `${child.name}'s argv`).toBe(false);
      }
      expect(environ.includes('master.key'), `${child.name}'s environment names no master key`).toBe(false);
    }
    const environOf = (name: string) => readFileSync(`/proc/${stack.lock().children.find((c) => c.name === name)!.pid}/environ`, 'utf8').split('\0');
    const api = environOf('api');
    expect(api).toContain(`PLUTARC_KEYBROKER_SERVICE_TOKEN_FILE=${join(dir, 'keybroker', 'service-token')}`);
    expect(api).toContain(`PLUTARC_ORCHESTRATOR_TOKEN_FILE=${join(dir, 'orchestrator-token')}`);
    expect(api.find((v) => v.startsWith('PLUTARC_EXCHANGE_URLS='))).toMatch(/^PLUTARC_EXCHANGE_URLS=.*binanceusdm=http:\/\/127\.0\.0\.1:\d+/);
    // Only the orchestrator may ask the broker for instance credentials: the API is not even told where that token is.
    expect(api.some((v) => v.includes('keybroker/orchestrator-token'))).toBe(false);
    const orchestrator = environOf('orchestrator');
    expect(orchestrator).toContain(`PLUTARC_ORCHESTRATOR_TOKEN_FILE=${join(dir, 'orchestrator-token')}`);
    expect(orchestrator).toContain(`PLUTARC_KEYBROKER_ORCHESTRATOR_TOKEN_FILE=${join(dir, 'keybroker', 'orchestrator-token')}`);
    expect(orchestrator).toContain(`PLUTARC_API_URL=${stack.apiUrl}`);
    const published = readFileSync(join(dir, 'keybroker', 'identity.pub.jwk'), 'utf8');
    expect(JSON.parse(readFileSync(join(dir, 'app', 'keybroker-identity.jwk'), 'utf8'))).toEqual(JSON.parse(published));
    expect(stack.output()).toMatch(/exchange simulator on http:\/\/127\.0\.0\.1:\d+/);
    stack.process.kill('SIGINT');
    expect(await stack.exited).toBe(0);

    // A key broker with a new identity: the app keeps the one it pinned and says it will not seal to the new one.
    rmSync(join(dir, 'keybroker', 'identity.key.jwk'));
    const again = await startStack(dir);
    stacks.push(again);
    expect(readFileSync(join(dir, 'keybroker', 'identity.pub.jwk'), 'utf8')).not.toBe(published);
    expect(again.output()).toMatch(/not the one this app pinned on its first start/);
    again.process.kill('SIGINT');
    expect(await again.exited).toBe(0);
  });
});
