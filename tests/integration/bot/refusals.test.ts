// Refusals: a key that can withdraw, a key whose IP restriction shuts the bot out, and instance credentials
// that are reused, expired, or made for another bot or key. Each stops the bot with status error and its
// reason; nothing is traded.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ReportBody } from '../../../src-shared/bot-instance.ts';
import { issueCredential, unseal } from '../keybroker/harness.ts';
import { deployOnSim, startBot, startWorld, type DeployedBot, type World } from './world.ts';

describe('refusals', () => {
  let world: World;
  let brokerSkewMs = 0;
  beforeAll(async () => {
    world = await startWorld({ brokerNow: () => new Date(Date.now() + brokerSkewMs) });
  });
  afterAll(() => world.close());

  /** Starts an instance, waits for it to end, and returns its exit, its status row and its error reports. */
  const refusedRun = async (bot: DeployedBot, credential?: (instanceId: string) => Promise<string>) => {
    const proc = await startBot(world, bot, credential ? { credential } : {});
    const exit = await proc.exited;
    const row = await world.api.app.botInstances.instance(proc.instanceId);
    const errors = (await world.api.app.botInstances.history(bot.botId)).filter((h) => h.instanceId === proc.instanceId).map((h) => h.body as ReportBody);
    return { exit, row, errors, proc };
  };
  /** No order on the exchange; the simulator opens an account only on a key's first trading call. */
  const nothingTraded = (bot: DeployedBot) => {
    const ledger = world.sim.ledgers.binanceusdm;
    let orders: readonly unknown[] = [];
    try {
      orders = ledger.orders(bot.apiKey);
    } catch (error) {
      expect((error as Error).message).toBe('no simulated account for this key');
    }
    expect(orders).toEqual([]);
  };

  it('a key that can withdraw: status error naming the setting to turn off', async () => {
    const bot = await deployOnSim(world, { key: { withdraw: true, ipAllowlist: ['127.0.0.1'] } });
    const { exit, row, errors } = await refusedRun(bot);
    expect(exit).toEqual({ code: 2, signal: null });
    expect(row).toMatchObject({ status: 'error' });
    expect(row?.status_reason).toMatch(/can move funds out.*“Enable Withdrawals”/);
    expect(errors).toEqual([expect.objectContaining({ kind: 'error', code: 'key_can_withdraw' })]);
    nothingTraded(bot);
  }, 60_000);

  it('a key restricted to other IP addresses: refused by the exchange, said so', async () => {
    const bot = await deployOnSim(world, { key: { ipAllowlist: ['203.0.113.7'] } });
    const { exit, row } = await refusedRun(bot);
    expect(exit.code).toBe(2);
    expect(row).toMatchObject({ status: 'error' });
    expect(row?.status_reason).toMatch(/refused the key from this bot’s address/);
    nothingTraded(bot);
  }, 60_000);

  it('a credential already used, expired, or made for another bot or another key: the broker refuses it', async () => {
    const bot = await deployOnSim(world);
    const other = await deployOnSim(world);
    const binding = (instanceId: string) => ({ userId: bot.userId, botId: bot.botId, recordId: bot.recordId, instanceId });

    const cases: { code: string; credential: (instanceId: string) => Promise<string> }[] = [
      {
        code: 'credential_used',
        credential: async (instanceId) => {
          const { credential } = await issueCredential(world.broker, binding(instanceId));
          expect((await unseal(world.broker, { credential, instanceId, botId: bot.botId, recordId: bot.recordId })).status).toBe(200);
          return credential;
        },
      },
      {
        code: 'credential_expired',
        credential: async (instanceId) => {
          const { credential } = await issueCredential(world.broker, { ...binding(instanceId), ttlSeconds: 1 });
          brokerSkewMs = 5_000;
          return credential;
        },
      },
      { code: 'credential_mismatch', credential: async (instanceId) => (await issueCredential(world.broker, { ...binding(instanceId), botId: other.botId })).credential },
      {
        code: 'credential_mismatch',
        credential: async (instanceId) => (await issueCredential(world.broker, { ...binding(instanceId), userId: other.userId, recordId: other.recordId })).credential,
      },
    ];
    for (const { code, credential } of cases) {
      brokerSkewMs = 0;
      const { exit, row, errors } = await refusedRun(bot, credential);
      expect(exit.code).toBe(2);
      expect(row).toMatchObject({ status: 'error' });
      expect(row?.status_reason).toMatch(/key broker refused/);
      expect(errors).toEqual([expect.objectContaining({ kind: 'error', code })]);
    }
    brokerSkewMs = 0;
    nothingTraded(bot);
    nothingTraded(other);
  }, 120_000);
});
