// After an account is deleted, nothing of it is left where the orchestrator and the keeper keep things: the keeper's
// run folder (instance folders, egress proxy sockets, staging and home folders of sandboxes), its socket's folder, the
// host-wide claims of sandbox users, the bots' cgroups, and the host's temp and run folders. Two traders run bots
// through the real stack (API on SQLite, key broker, exchange simulator, keeper with the bubblewrap sandbox, an
// orchestrator with the local driver); one, whose bot has traded, deletes the account. The scan looks for every
// string of that account the orchestrator or a bot could have written: email, ids of user, bots, runs, instances and
// key, key hint and secret, template name, the client ids of its orders. The other trader's bot runs on untouched, and
// the same scan finds its ids, so the scan is shown to look where things are.
import { randomUUID } from 'node:crypto';
import { chmodSync, existsSync, lstatSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { instanceCgroupName } from '../../../src-orchestrator/local/keeper.ts';
import { ACCOUNT_DATA_ROUTES } from '../../../src-shared/account-data.ts';
import type { BotDetail } from '../../../src-shared/bots.ts';
import { maskApiKey } from '../../../src-shared/exchange-keys.ts';
import type { TemplateView } from '../../../src-shared/templates-api.ts';
import { ccxtForSim } from '../../support/ccxt-sim.ts';
import { call } from '../../support/http.ts';
import { registerUser, reverify } from '../../support/identity.ts';
import { tempDir } from '../../support/temp.ts';
import { waitFor } from '../../support/wait.ts';
import { BUSY_TEMPLATE } from '../../unit/bot/busy-template.ts';
import { settings } from '../bots/harness.ts';
import { botProcessesOfUser, newStackKey, nextCandle, pinMarketAtNextCandle, startFullStack, type FullStack } from '../orchestrator/full-stack.ts';

const canSandbox = process.getuid?.() === 0 && existsSync('/usr/bin/bwrap');
const MINUTE = 60_000;
const LONG = { timeoutMs: 90_000 };

interface Trader {
  userId: string;
  email: string;
  token: string;
  keyRecordId: string;
  apiKey: string;
  secret: string;
  templateName: string;
  botId: string;
  botName: string;
}

/** Mount points on this host: a sandbox's staging folder binds host paths (node, its libraries, the app) that are not the instance's. */
function mountPoints(): Set<string> {
  return new Set(
    readFileSync('/proc/self/mountinfo', 'utf8')
      .split('\n')
      .map((line) => line.split(' ')[4] ?? '')
      .filter((point) => point !== ''),
  );
}

/** Every place below `roots` (names, and unless `namesOnly` the bytes of regular files) where one of `needles` is found. */
function scan(roots: readonly string[], needles: readonly (readonly [string, string])[], { depth = Infinity, namesOnly = false } = {}): string[] {
  const mounts = mountPoints();
  const found: string[] = [];
  const visit = (path: string, level: number) => {
    let info;
    try {
      info = lstatSync(path);
    } catch {
      return; // Removed while we looked.
    }
    for (const [what, needle] of needles) if (path.includes(needle)) found.push(`${what} in the name ${path}`);
    if (info.isFile() && !namesOnly) {
      let bytes: string;
      try {
        bytes = readFileSync(path, 'latin1');
      } catch {
        return;
      }
      for (const [what, needle] of needles) if (bytes.includes(needle)) found.push(`${what} in ${path}`);
      return;
    }
    if (!info.isDirectory() || level >= depth || (level > 0 && mounts.has(path))) return;
    let entries: string[];
    try {
      entries = readdirSync(path);
    } catch {
      return;
    }
    for (const entry of entries) visit(join(path, entry), level + 1);
  };
  for (const root of roots) visit(root, 0);
  return found;
}

/** The folders the keeper makes its bots' cgroups in: `plutarc-bots` below its own cgroup, per controller on v1. */
function botCgroupParents(keeperPid: number): string[] {
  const lines = readFileSync(`/proc/${keeperPid}/cgroup`, 'utf8').trim().split('\n');
  const v1 = lines
    .map((line) => line.split(':'))
    .filter(([, controllers]) => controllers !== '' && ['memory', 'cpu', 'pids'].some((c) => controllers!.split(',').includes(c)))
    .map(([, controllers, path]) => join('/sys/fs/cgroup', controllers!, path!, 'plutarc-bots'));
  const unified = lines.find((line) => line.startsWith('0::'));
  const v2 = unified ? [join('/sys/fs/cgroup', unified.slice(3), 'plutarc-bots')] : [];
  return [...v1, ...v2].filter((dir) => existsSync(dir));
}

describe.skipIf(!canSandbox)('account deletion leaves nothing of the account with the orchestrator or the keeper', { timeout: 900_000 }, () => {
  let dir: ReturnType<typeof tempDir>;
  let stack: FullStack;
  let candle: number;

  beforeAll(async () => {
    dir = tempDir('plutarc-orchestrator-forensic-');
    chmodSync(dir.path, 0o711);
    stack = await startFullStack(dir.path);
    await stack.startOrchestrator('orch-forensic');
    candle = await pinMarketAtNextCandle(stack);
  }, 180_000);

  afterAll(async () => {
    await stack?.close();
    dir?.cleanup();
  });

  const as = <T = Record<string, unknown>>(token: string, method: string, path: string, body?: unknown) =>
    call<T>(stack.apiUrl, method, path, { token, ...(body === undefined ? {} : { body }) });
  const detail = async (trader: Trader) => (await as<BotDetail>(trader.token, 'GET', `/v1/bots/${trader.botId}`)).body;
  const tail = () => [...stack.orchestrators.values()].map((o) => `${o.name}: ${o.output().slice(-3000)}`).join('\n');
  const botOutput = (botId: string) => () =>
    [...stack.orchestrators.values()].flatMap((o) => o.lines.filter((l) => l.msg === 'bot output' && l.botId === botId).map((l) => String(l.line)));

  /** A trader with a simulator key, a template of its own (a name to look for) and a deployed bot, online. */
  async function deployedTrader(tag: string): Promise<Trader> {
    const grant = await registerUser(stack.apiUrl);
    const token = await reverify(stack.apiUrl, grant.token);
    const key = await newStackKey(stack, { userId: grant.user.id, token });
    const templateName = `Forensic ${tag} ${randomUUID().slice(0, 8)}`;
    const template = await as<TemplateView>(token, 'POST', '/v1/templates', { template: { ...BUSY_TEMPLATE, name: templateName } });
    expect(template.status, JSON.stringify(template.body)).toBe(201);
    const botName = `Bot ${tag} ${randomUUID().slice(0, 8)}`;
    const created = await as<BotDetail>(token, 'POST', '/v1/bots', settings(key.keyRecordId, { name: botName, templateId: template.body.id, templateVersion: template.body.version, region: 'eu' }));
    expect(created.status, JSON.stringify(created.body)).toBe(201);
    const trader: Trader = { userId: grant.user.id, email: grant.email, token, ...key, templateName, botId: created.body.summary.id, botName };
    expect((await as(token, 'POST', `/v1/bots/${trader.botId}/deploy`, { region: 'eu' })).status).toBe(200);
    await waitFor(async () => (await detail(trader)).summary.state === 'online', { what: `bot ${trader.botId} online; orchestrator said:\n${tail()}`, ...LONG });
    return trader;
  }

  it('finds none of the deleted account’s strings, while the other account’s bot runs on and is found', async () => {
    const leaving = await deployedTrader('leaving');
    const staying = await deployedTrader('staying');

    // The leaving trader's bot trades, so its orders' client ids exist to be looked for.
    const exchange = ccxtForSim('binanceusdm', stack.simUrls.binanceusdm!, { apiKey: leaving.apiKey, secret: leaving.secret, now: () => candle });
    const orderIds = async () => (await exchange.fetchOrders('BTC/USDT:USDT')).map((o) => o.clientOrderId).filter((id): id is string => typeof id === 'string');
    for (let n = 0; n < 120 && (await orderIds()).length === 0; n++) {
      candle += MINUTE;
      await nextCandle(stack, botOutput(leaving.botId), candle);
    }
    const clientOrderIds = await orderIds();
    expect(clientOrderIds.length).toBeGreaterThan(0);

    const leavingRuns = (await detail(leaving)).runs;
    const stayingBefore = await detail(staying);
    const [stayingFolder] = stack.instanceFolders(staying.botId);
    expect(stayingFolder?.uid).toEqual(expect.any(Number));
    const stayingPids = botProcessesOfUser(stayingFolder!.uid!);
    expect(stayingPids).toHaveLength(1);

    const needles: [string, string][] = [
      ['email', leaving.email],
      ['user id', leaving.userId],
      ['bot id', leaving.botId],
      ['bot name', leaving.botName],
      ['key record id', leaving.keyRecordId],
      ['key hint', maskApiKey(leaving.apiKey)],
      ['API key', leaving.apiKey],
      ['API secret', leaving.secret],
      ['template name', leaving.templateName],
      ...leavingRuns.flatMap((run): [string, string][] => [['run id', run.id], ...run.instanceIds.map((id): [string, string] => ['instance id', id])]),
      ...clientOrderIds.map((id): [string, string] => ['client order id', id]),
    ];
    const instanceIds = leavingRuns.flatMap((run) => run.instanceIds);
    expect(instanceIds.length).toBeGreaterThan(0);

    const runRoot = join(dir.path, 'instances');
    const places = () => [runRoot, join(dir.path, 'keeper'), '/run/plutarc-sandbox-users', ...botCgroupParents(stack.keeper.child.pid!)];
    // While the bot runs, the scan finds it where the keeper keeps it: the scan looks in the right places.
    expect(scan(places(), needles).some((hit) => hit.startsWith('instance id'))).toBe(true);

    const token = await reverify(stack.apiUrl, leaving.token);
    const accepted = await as(token, 'POST', ACCOUNT_DATA_ROUTES.deletion, { email: leaving.email });
    expect(accepted.status, JSON.stringify(accepted.body)).toBe(202);
    // The last step signs every device out: once the session is refused, the deletion has run to its end.
    await waitFor(async () => (await as(token, 'GET', `/v1/bots/${leaving.botId}`)).status === 401, { what: `the deletion to finish; orchestrator said:\n${tail()}`, ...LONG });

    expect(stack.instanceFolders(leaving.botId)).toEqual([]);
    expect(scan(places(), needles)).toEqual([]);
    // No cgroup is named for any of its instances, whatever the scan's view of names.
    for (const parent of botCgroupParents(stack.keeper.child.pid!)) {
      for (const id of instanceIds) expect(existsSync(join(parent, instanceCgroupName(runRoot, id))), `${parent} ${id}`).toBe(false);
    }
    // The host's temp and run folders: nothing named by the account (their files are other programs', so names only).
    expect(scan(['/tmp', '/run', '/dev/shm'], needles, { depth: 2, namesOnly: true })).toEqual([]);
    // Nothing of it runs: no process's command line or environment holds any of its strings.
    const processes = readdirSync('/proc').filter((name) => /^\d+$/.test(name));
    const running = processes.filter((pid) => {
      try {
        const text = readFileSync(`/proc/${pid}/cmdline`, 'latin1') + readFileSync(`/proc/${pid}/environ`, 'latin1');
        return needles.some(([, needle]) => text.includes(needle));
      } catch {
        return false;
      }
    });
    expect(running).toEqual([]);

    // The other account: the same bot, the same instance, the same process, found by the same scan.
    const stayingAfter = await detail(staying);
    expect(stayingAfter.summary.state).toBe('online');
    expect(stayingAfter.runs.map((run) => run.instanceIds)).toEqual(stayingBefore.runs.map((run) => run.instanceIds));
    expect(stack.instanceFolders(staying.botId)).toEqual([stayingFolder]);
    expect(botProcessesOfUser(stayingFolder!.uid!)).toEqual(stayingPids);
    const stayingHits = scan(places(), [['instance id', stayingFolder!.instanceId], ['bot id', staying.botId]]);
    expect(stayingHits.some((hit) => hit.startsWith('instance id'))).toBe(true);
    expect(stayingHits.some((hit) => hit.startsWith('bot id'))).toBe(true);
  });
});
