// Isolation of a bot deployed the way a trader deploys one: through the API, converged by the orchestrator process,
// whose planner computes the bot's egress allowlist, run by the keeper in bubblewrap (as root). The driver-level probes
// (local-driver.test.ts) hand the driver an allowlist of their own; here the allowlist is the planner's, and what the
// running bot can reach is tried through its own egress socket, as its own user: its exchange, the API and the key
// broker answer; the simulator's other exchanges, its admin listener and any other address are refused.
import { spawn } from 'node:child_process';
import { chmodSync, existsSync, readFileSync, readlinkSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { BotDetail } from '../../../src-shared/bots.ts';
import { call } from '../../support/http.ts';
import { tempDir } from '../../support/temp.ts';
import { waitFor } from '../../support/wait.ts';
import { settings } from '../bots/harness.ts';
import { botProcessesOfUser, newStackTrader, startFullStack, type FullStack } from './full-stack.ts';

const canSandbox = process.getuid?.() === 0 && existsSync('/usr/bin/bwrap');

/** Run as the bot's own user on the host: each target through the bot's egress socket, plainly forwarded and tunnelled. */
const TRY_THROUGH_SOCKET = `
const { request } = require('node:http');
const [socketPath, targetsJson] = process.argv.slice(1);
const forward = (url) => new Promise((resolve) => {
  const req = request({ socketPath, path: url, headers: { host: new URL(url).host } }, (res) => { res.resume(); res.on('end', () => resolve(res.statusCode)); });
  req.once('error', (error) => resolve(error.code ?? error.message));
  req.end();
});
const tunnel = (authority) => new Promise((resolve) => {
  const req = request({ socketPath, method: 'CONNECT', path: authority });
  req.once('connect', (res, socket) => { socket.destroy(); resolve(res.statusCode); });
  req.once('error', (error) => resolve(error.code ?? error.message));
  req.end();
});
(async () => {
  const out = {};
  for (const url of JSON.parse(targetsJson)) out[url] = { forwarded: await forward(url), tunnelled: await tunnel(new URL(url).host) };
  process.stdout.write(JSON.stringify(out));
})();
`;

function tryAsUser(uid: number, socketPath: string, urls: string[]): Promise<Record<string, { forwarded: number | string; tunnelled: number | string }>> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['-e', TRY_THROUGH_SOCKET, socketPath, JSON.stringify(urls)], { uid, gid: uid, env: {}, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (chunk: Buffer) => (out += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (err += chunk.toString()));
    child.once('exit', (code) => (code === 0 ? resolve(JSON.parse(out) as Awaited<ReturnType<typeof tryAsUser>>) : reject(new Error(`probe exited ${code}: ${err}`))));
  });
}

describe.skipIf(!canSandbox)('a bot deployed through the API reaches only its exchange, the API and the key broker', { timeout: 600_000 }, () => {
  let dir: ReturnType<typeof tempDir>;
  let stack: FullStack;
  let elsewhere: Server;
  let elsewhereConnections = 0;

  beforeAll(async () => {
    dir = tempDir('plutarc-api-path-isolation-');
    chmodSync(dir.path, 0o711);
    stack = await startFullStack(dir.path);
    await stack.startOrchestrator('orch-a');
    elsewhere = createServer((_req, res) => res.end('nobody’s endpoint'));
    elsewhere.on('connection', () => elsewhereConnections++);
    await new Promise<void>((resolve) => elsewhere.listen(0, '127.0.0.1', resolve));
  }, 180_000);

  afterAll(async () => {
    await stack?.close();
    elsewhere?.close();
    dir?.cleanup();
  });

  it('the planner’s allowlist is what the running bot’s egress lets through, and the bot has no network of its own', async () => {
    const trader = await newStackTrader(stack);
    const as = <T = Record<string, unknown>>(method: string, path: string, body?: unknown) =>
      call<T>(stack.apiUrl, method, path, { token: trader.token, ...(body === undefined ? {} : { body }) });
    const created = await as<BotDetail>('POST', '/v1/bots', settings(trader.keyRecordId, { templateId: 'system-trend-following', region: 'us' }));
    expect(created.status, JSON.stringify(created.body)).toBe(201);
    const botId = created.body.summary.id;
    expect((await as('POST', `/v1/bots/${botId}/deploy`, { region: 'us' })).status).toBe(200);
    await waitFor(async () => (await as<BotDetail>('GET', `/v1/bots/${botId}`)).body.summary.state === 'online', { what: 'the bot Online', timeoutMs: 90_000 });

    const [instance] = stack.instanceFolders(botId);
    const [botPid] = botProcessesOfUser(instance!.uid!);
    expect(botPid).toBeDefined();
    // No network of its own: a namespace apart from the host's, with nothing in it but loopback.
    expect(readlinkSync(`/proc/${botPid}/ns/net`)).not.toBe(readlinkSync('/proc/self/ns/net'));
    const interfaces = readFileSync(`/proc/${botPid}/net/dev`, 'utf8').split('\n').slice(2).flatMap((line) => (line.includes(':') ? [line.split(':')[0]!.trim()] : []));
    expect(interfaces).toEqual(['lo']);
    // Its one way out is the socket its sandbox was given.
    const socketPath = join(stack.dir, 'instances', instance!.instanceId, 'egress.sock');
    expect(readFileSync(`/proc/${botPid}/environ`, 'latin1')).toContain('PLUTARC_EGRESS_SOCKET=');

    const exchange = `${stack.simUrls.binanceusdm}/fapi/v1/ping`;
    const api = `${stack.apiUrl}/v1/health`;
    const broker = `${String(stack.broker.ready.url)}/v1/health`;
    const refused = [
      `${stack.simAdmin}/_sim/keys`,
      ...Object.entries(stack.simUrls)
        .filter(([name, url]) => name !== 'binanceusdm' && name !== 'admin' && new URL(url).host !== new URL(exchange).host)
        .map(([, url]) => `${url}/`),
      `http://127.0.0.1:${(elsewhere.address() as AddressInfo).port}/`,
      'http://1.1.1.1:443/',
    ];
    const outcome = await tryAsUser(instance!.uid!, socketPath, [exchange, api, broker, ...refused]);

    for (const url of [exchange, api, broker]) {
      expect({ url, tunnelled: outcome[url]!.tunnelled }).toEqual({ url, tunnelled: 200 });
      expect({ url, forwarded: outcome[url]!.forwarded }).not.toEqual({ url, forwarded: 403 });
      expect(typeof outcome[url]!.forwarded).toBe('number');
    }
    expect(outcome[exchange]!.forwarded).toBe(200);
    expect(outcome[api]!.forwarded).toBe(200);
    for (const url of refused) expect({ url, ...outcome[url] }).toEqual({ url, forwarded: 403, tunnelled: 403 });
    expect(elsewhereConnections).toBe(0);

    expect((await as('POST', `/v1/bots/${botId}/stop`)).status).toBe(200);
    await waitFor(async () => (await as<BotDetail>('GET', `/v1/bots/${botId}`)).body.summary.state === 'stopped', { what: 'the bot Stopped', timeoutMs: 90_000 });
    await waitFor(() => stack.instanceFolders(botId).length === 0, { what: 'the instance gone', timeoutMs: 90_000 });
  });
});
