// In a sandbox the bot's only way out is the orchestrator's egress proxy on a unix socket: with
// PLUTARC_EGRESS_SOCKET set, every request (API, key broker, exchange) goes through it, and an endpoint the
// proxy does not allow is not reached.
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { EgressEndpoint } from '../../../src-orchestrator/compute-driver.ts';
import { EgressProxy } from '../../../src-orchestrator/local/egress-proxy.ts';
import { tempDir } from '../../support/temp.ts';
import { deployOnSim, startBot, startWorld, type World } from './world.ts';

const endpointOf = (url: string, kind: EgressEndpoint['kind']): EgressEndpoint => {
  const { hostname, port } = new URL(url);
  return { host: hostname, port: Number(port), kind };
};

describe('egress through the proxy', () => {
  let world: World;
  const dir = tempDir('plutarc-bot-egress-');
  beforeAll(async () => {
    world = await startWorld();
  });
  afterAll(async () => {
    await world.close();
    dir.cleanup();
  });

  const proxyFor = async (allow: EgressEndpoint[], name: string) => {
    const refused: string[] = [];
    const forwarded: string[] = [];
    const proxy = await EgressProxy.start({
      socketPath: join(dir.path, `${name}.sock`),
      allow,
      exchangeOneWayMs: 0,
      log: {
        info: (fields) => forwarded.push(JSON.stringify(fields)),
        warn: (fields) => refused.push(JSON.stringify(fields)),
        error: (fields) => refused.push(JSON.stringify(fields)),
      },
      logFields: { instance: name },
    });
    return { proxy, refused, forwarded, socket: join(dir.path, `${name}.sock`) };
  };

  it('trades with every request through the socket; without the exchange allowed it never reaches it', async () => {
    const bot = await deployOnSim(world);
    const api = endpointOf(world.api.url, 'api');
    const broker = endpointOf(world.broker.url, 'broker');
    const exchange = endpointOf(world.sim.urls.binanceusdm, 'exchange');

    const open = await proxyFor([api, broker, exchange], 'open');
    try {
      const proc = await startBot(world, bot, { env: { PLUTARC_EGRESS_SOCKET: open.socket } });
      await proc.waitFor((l) => l.msg === 'trading');
      proc.child.kill('SIGTERM');
      expect(await proc.exited).toEqual({ code: 0, signal: null });
      expect(open.refused).toEqual([]);
    } finally {
      await open.proxy.close();
    }

    // The same bot, a proxy that lets it reach the API and the broker only: the exchange is out of reach.
    const closed = await proxyFor([api, broker], 'closed');
    try {
      const proc = await startBot(world, bot, { env: { PLUTARC_EGRESS_SOCKET: closed.socket } });
      const exit = await proc.exited;
      expect(exit.code).toBe(2);
      expect(proc.output()).toContain('Could not check the key with the exchange');
      expect(closed.refused.join('\n')).toContain(`${exchange.host}:${exchange.port}`);
    } finally {
      await closed.proxy.close();
    }
  }, 120_000);
});
