// What a bot is started with: its hand-off bytes (the bot's own schema reads them back), an egress allowlist of
// exactly its exchange, the API and the broker, and the orchestrator's settings read from its environment.
import { chmodSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig, readTokenFile, TokenFileError } from '../../../src-orchestrator/config.ts';
import { encodeHandOff } from '../../../src-orchestrator/hand-off.ts';
import { BOT_BUNDLE_ENTRY, BOT_NODE_OPTIONS } from '../../../src-orchestrator/bot-bundle.ts';
import { InstanceCommand } from '../../../src-orchestrator/compute-driver.ts';
import { BOT_APP_PATHS, BotBundleMissingError, botPlanner, requireBotBundle } from '../../../src-orchestrator/planner.ts';
import { BotHandOff } from '../../../src-shared/bot-instance.ts';
import { EXCHANGE_API_HOSTS } from '../../../src-shared/exchange-hosts.ts';
import { ExchangeId } from '../../../src-shared/exchanges.ts';
import { tempDir } from '../../support/temp.ts';
import { desiredBot } from './fakes.ts';

const TOKEN = 'T'.repeat(43);
const who = { botId: 'bot-1', instanceId: 'i-1', apiUrl: 'http://127.0.0.1:8787', brokerUrl: 'http://127.0.0.1:8790' };

describe('the hand-off', () => {
  it('is the BotHandOff the bot reads, with the token and the credential as given', () => {
    const credential = new TextEncoder().encode('v1.abc_DEF-123.xyz');
    const bytes = encodeHandOff(who, TOKEN, credential);
    expect(BotHandOff.parse(JSON.parse(new TextDecoder().decode(bytes)))).toEqual({ ...who, instanceToken: TOKEN, brokerCredential: 'v1.abc_DEF-123.xyz' });
  });

  it('refuses a token or credential that would need escaping or is not what the contract says, without echoing it', () => {
    const attempts: [string, Uint8Array][] = [
      ['short', new TextEncoder().encode('QQQQ')],
      [TOKEN, new TextEncoder().encode('QQ"QQ')],
      [TOKEN, new TextEncoder().encode('QQ\\QQ')],
      [TOKEN, new TextEncoder().encode('QQ\nQQ')],
      [TOKEN, new Uint8Array(0)],
      [TOKEN, new Uint8Array(513).fill(0x41)],
    ];
    for (const [token, credential] of attempts) {
      const error = (() => {
        try {
          encodeHandOff(who, token, credential);
          return null;
        } catch (e) {
          return e as Error;
        }
      })();
      expect(error).toBeInstanceOf(Error);
      expect(error!.message).not.toContain(new TextDecoder().decode(credential) || '\u0000');
      expect(error!.message).not.toContain(token);
    }
  });
});

describe('the planner', () => {
  const limits = { memoryBytes: 512 * 1024 * 1024, cpus: 0.5, pids: 128, scratchBytes: 16 * 1024 * 1024 };
  const plan = botPlanner({ executable: '/usr/bin/node', limits, reach: { apiUrl: 'http://127.0.0.1:8787', brokerUrl: 'https://broker.internal' } });

  it('runs the bundled bot under its heap caps and lets it reach the simulator standing in for its exchange, the API and the broker, nothing else', () => {
    const spec = plan(desiredBot({ exchangeUrl: 'http://127.0.0.1:9101' }), 'i-1');
    expect(spec.command).toEqual({ executable: '/usr/bin/node', entry: BOT_BUNDLE_ENTRY, args: [], nodeOptions: ['--max-old-space-size=48', '--max-semi-space-size=1'] });
    expect(BOT_NODE_OPTIONS).toEqual(spec.command.nodeOptions);
    // Only the bundle's folder is bound into the sandbox: nothing of the sources or node_modules.
    expect(BOT_APP_PATHS).toEqual(['out/bot']);
    expect(spec.limits).toEqual(limits);
    expect(spec.egress).toEqual([
      { host: '127.0.0.1', port: 9101, kind: 'exchange' },
      { host: '127.0.0.1', port: 8787, kind: 'api' },
      { host: 'broker.internal', port: 443, kind: 'broker' },
    ]);
  });

  it('lets a bot on a real exchange reach that exchange’s API hosts, live or testnet as the bot trades', () => {
    for (const exchange of ExchangeId.options) {
      for (const testnet of [false, true]) {
        const egress = plan(desiredBot({ exchange, testnet, exchangeUrl: null }), 'i-1').egress.filter((e) => e.kind === 'exchange');
        expect(egress.map(({ host, port }) => ({ host, port }))).toEqual(EXCHANGE_API_HOSTS[exchange][testnet ? 'testnet' : 'live']);
      }
    }
    expect(plan(desiredBot({ exchange: 'bybit', testnet: true, exchangeUrl: null }), 'i-1').egress[0]).toEqual({ host: 'api-testnet.bybit.com', port: 443, kind: 'exchange' });
  });

  it('refuses to run bots without the bundle, naming the file and how to make it', () => {
    const dir = tempDir('plutarc-no-bundle-');
    try {
      expect(() => requireBotBundle(dir.path)).toThrow(BotBundleMissingError);
      expect(() => requireBotBundle(dir.path)).toThrow(`${join(dir.path, BOT_BUNDLE_ENTRY)} is missing: run "npm run build"`);
    } finally {
      dir.cleanup();
    }
  });

  it('accepts only plain runtime options: none that loads code, reads a file or opens a debugger', () => {
    const command = { executable: '/usr/bin/node', entry: BOT_BUNDLE_ENTRY, args: [] };
    expect(InstanceCommand.parse(command).nodeOptions).toEqual([]);
    expect(InstanceCommand.safeParse({ ...command, nodeOptions: ['--max-old-space-size=48'] }).success).toBe(true);
    for (const bad of ['--require=/tmp/x.js', '--import=data:text/javascript,1', '--env-file=/etc/shadow', '--inspect=0.0.0.0:9229', '-e', '--eval=1', '--max-old-space-size=48 --inspect', '--title=$(id)']) {
      expect(InstanceCommand.safeParse({ ...command, nodeOptions: [bad] }).success, bad).toBe(false);
    }
  });

  it('names an IPv6 simulator without brackets, as the egress proxy compares hosts', () => {
    expect(plan(desiredBot({ exchangeUrl: 'http://[::1]:9101/' }), 'i-1').egress[0]).toEqual({ host: '::1', port: 9101, kind: 'exchange' });
  });
});

describe('the orchestrator’s settings', () => {
  const env = {
    PLUTARC_API_URL: 'http://127.0.0.1:8787/',
    PLUTARC_ORCHESTRATOR_TOKEN_FILE: 'orchestrator-token',
    PLUTARC_KEYBROKER_URL: 'http://127.0.0.1:8790',
    PLUTARC_KEYBROKER_ORCHESTRATOR_TOKEN_FILE: '/data/keybroker/orchestrator-token',
  };

  it('reads where things are, the limits and the simulated regions', () => {
    const config = loadConfig({ ...env, PLUTARC_ORCHESTRATOR_ID: 'orch-1', PLUTARC_BOT_MEMORY_MB: '256', PLUTARC_SIM_REGION_DELAYS: 'eu=15,us=90,sg=170' }, '/work');
    expect(config).toMatchObject({
      apiUrl: 'http://127.0.0.1:8787',
      apiTokenFile: '/work/orchestrator-token',
      brokerTokenFile: '/data/keybroker/orchestrator-token',
      botReach: { apiUrl: 'http://127.0.0.1:8787', brokerUrl: 'http://127.0.0.1:8790' },
      id: 'orch-1',
      driver: { name: 'local', keeperSocket: expect.stringMatching(/keeper\.sock$/) },
      limits: { memoryBytes: 256 * 1024 * 1024 },
      simulatedRegions: { eu: { exchangeRoundTripMs: 15 }, us: { exchangeRoundTripMs: 90 }, sg: { exchangeRoundTripMs: 170 } },
    });
    expect(loadConfig(env).id).toMatch(/-\d+$/);
  });

  it('picks the driver: the keeper’s socket for local, the engine’s socket and image for docker, the cloud drivers by name', () => {
    expect(loadConfig({ ...env, PLUTARC_KEEPER_SOCKET: 'run/keeper.sock' }, '/work').driver).toEqual({ name: 'local', keeperSocket: '/work/run/keeper.sock' });
    expect(loadConfig({ ...env, PLUTARC_ORCHESTRATOR_DRIVER: 'docker' }, '/work').driver).toEqual({ name: 'docker', socketPath: '/var/run/docker.sock', image: 'plutarc/bot:local', runRoot: undefined });
    expect(
      loadConfig({ ...env, PLUTARC_ORCHESTRATOR_DRIVER: 'docker', PLUTARC_DOCKER_SOCKET: '/run/podman/podman.sock', PLUTARC_DOCKER_BOT_IMAGE: 'registry.example/bot:1', PLUTARC_DOCKER_RUN_ROOT: 'bots' }, '/work').driver,
    ).toEqual({ name: 'docker', socketPath: '/run/podman/podman.sock', image: 'registry.example/bot:1', runRoot: '/work/bots' });
    expect(loadConfig({ ...env, PLUTARC_ORCHESTRATOR_DRIVER: 'kubernetes' }).driver).toEqual({ name: 'kubernetes' });
    expect(loadConfig({ ...env, PLUTARC_ORCHESTRATOR_DRIVER: 'fly' }).driver).toEqual({ name: 'fly' });
    expect(() => loadConfig({ ...env, PLUTARC_ORCHESTRATOR_DRIVER: 'nomad' })).toThrow(/PLUTARC_ORCHESTRATOR_DRIVER/);
  });

  it('refuses a token in the environment, a missing setting or a bad region delay, naming the variable and never the value', () => {
    const secret = 'S'.repeat(43);
    const attempt = (extra: Record<string, string | undefined>) => {
      try {
        loadConfig({ ...env, ...extra });
        return null;
      } catch (error) {
        return error as ConfigError;
      }
    };
    const inEnv = attempt({ PLUTARC_ORCHESTRATOR_TOKEN: secret });
    expect(inEnv).toBeInstanceOf(ConfigError);
    expect(inEnv!.message).toContain('PLUTARC_ORCHESTRATOR_TOKEN: key material is never read from the environment');
    expect(inEnv!.message).not.toContain(secret);
    expect(attempt({ PLUTARC_KEYBROKER_URL: undefined })!.problems).toEqual([expect.stringContaining('PLUTARC_KEYBROKER_URL')]);
    expect(attempt({ PLUTARC_SIM_REGION_DELAYS: 'mars=5' })!.problems).toEqual([expect.stringContaining('PLUTARC_SIM_REGION_DELAYS')]);
    expect(attempt({ PLUTARC_ORCHESTRATOR_ID: '../etc' })!.problems).toEqual([expect.stringContaining('PLUTARC_ORCHESTRATOR_ID')]);
  });

  it('reads a token only from a file no one else may read, and never says what it holds', () => {
    const dir = tempDir('plutarc-orch-token-');
    try {
      const file = join(dir.path, 'token');
      writeFileSync(file, `${TOKEN}\n`, { mode: 0o600 });
      expect(readTokenFile(file, 'The token')).toBe(TOKEN);
      chmodSync(file, 0o644);
      expect(() => readTokenFile(file, 'The token')).toThrow(/open to other users \(mode 644\)/);
      writeFileSync(file, 'two tokens here', { mode: 0o600 });
      chmodSync(file, 0o600);
      expect(() => readTokenFile(file, 'The token')).toThrow(TokenFileError);
      expect(() => readTokenFile(file, 'The token')).not.toThrow(/two tokens/);
      expect(() => readTokenFile(join(dir.path, 'missing'), 'The token')).toThrow(/cannot be read/);
    } finally {
      dir.cleanup();
    }
  });
});
