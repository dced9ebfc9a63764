// A deletion survives the API being killed between its steps: killed while it waits for the bots to stop,
// killed again while the key broker is out of reach, then started once more, it finishes, and a sealed key
// saved before the deletion can no longer be opened, because the broker will not hand its key pair out.
import { fork, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chmodSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import pg from 'pg';
import { afterAll, expect, it } from 'vitest';
import { ACCOUNT_DATA_ROUTES } from '../../../src-shared/account-data.ts';
import { DATABASE_KINDS, PG_URL, postgresSchema } from '../../support/databases.ts';
import { call } from '../../support/http.ts';
import { tempDir } from '../../support/temp.ts';
import { waitFor } from '../../support/wait.ts';
import { startTestBroker, type TestBroker } from '../keybroker/harness.ts';
import { buildAccount, stopAsOrchestrator } from './harness.ts';

const dir = tempDir('plutarc-deletion-crash-');
const orchestratorToken = randomBytes(32).toString('base64url');
const tokenFile = join(dir.path, 'orchestrator.token');
writeFileSync(tokenFile, orchestratorToken, { mode: 0o600 });
chmodSync(tokenFile, 0o600);
const children: ChildProcess[] = [];
const brokers: TestBroker[] = [];

const schemas: { drop(): Promise<void> }[] = [];

afterAll(async () => {
  for (const child of children) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  for (const broker of brokers) await broker.close().catch(() => {});
  for (const schema of schemas) await schema.drop();
  dir.cleanup();
});

/** The API's database as the killed process left it, read from outside: its URL and a query on it. */
interface Outside {
  url: string;
  peek<T>(query: string, ...params: unknown[]): Promise<T[]>;
}

async function database(kind: 'sqlite' | 'postgres'): Promise<Outside> {
  if (kind === 'sqlite') {
    const file = join(dir.path, 'api.db');
    return {
      url: `sqlite:${file}`,
      async peek<T>(query: string, ...params: unknown[]) {
        const db = new Database(file, { readonly: true, fileMustExist: true });
        try {
          return db.prepare(query).all(...params) as T[];
        } finally {
          db.close();
        }
      },
    };
  }
  const schema = await postgresSchema(PG_URL ?? '');
  schemas.push(schema);
  return {
    url: schema.url,
    async peek<T>(query: string, ...params: unknown[]) {
      const client = new pg.Client({ connectionString: schema.url });
      await client.connect();
      try {
        let n = 0;
        return (await client.query(query.replace(/\?/g, () => `$${++n}`), params)).rows as T[];
      } finally {
        await client.end();
      }
    },
  };
}

/** The API as its own process (`node src-api/main.ts`), on the same database file every time. */
async function startApiProcess(broker: TestBroker, databaseUrl: string): Promise<{ child: ChildProcess; url: string }> {
  const child = fork(join(import.meta.dirname, '../../../src-api/main.ts'), [], {
    env: {
      PATH: process.env.PATH ?? '',
      PLUTARC_API_PORT: '0',
      PLUTARC_DATABASE_URL: databaseUrl,
      PLUTARC_LOG_LEVEL: 'warn',
      PLUTARC_KEYBROKER_URL: broker.url,
      PLUTARC_KEYBROKER_SERVICE_TOKEN_FILE: broker.config.serviceTokenFile,
      PLUTARC_ORCHESTRATOR_TOKEN_FILE: tokenFile,
      PLUTARC_EXCHANGE_URLS: 'binanceusdm=http://127.0.0.1:9/binanceusdm',
    },
    stdio: ['ignore', 'ignore', 'inherit', 'ipc'],
  });
  children.push(child);
  const url = await new Promise<string>((resolve, reject) => {
    child.on('message', (message: { type?: string; url?: string }) => {
      if (message.type === 'ready' && message.url) resolve(message.url);
    });
    child.once('exit', (code) => reject(new Error(`the API exited (${code}) before it was ready`)));
  });
  return { child, url };
}

async function kill(child: ChildProcess): Promise<void> {
  const exited = new Promise((resolve) => child.once('exit', resolve));
  child.kill('SIGKILL');
  await exited;
}

for (const kind of DATABASE_KINDS.filter((k) => k.enabled)) {
  it(`on ${kind.name}: finishes after the API is killed between steps, and the sealed keys saved before stay shut`, async () => {
    const { url: databaseUrl, peek } = await database(kind.name);
    const brokerDir = tempDir('plutarc-deletion-crash-broker-');
    const brokerData = join(brokerDir.path, 'data');
    let broker = await startTestBroker({ dataDir: brokerData });
    brokers.push(broker);

    let api = await startApiProcess(broker, databaseUrl);
    const alice = await buildAccount({ url: api.url, orchestratorToken }, 'alice');
    const records = [...alice.keys.map((k) => k.recordId), alice.unusedReservation];
    const accepted = await call<{ reference: string }>(api.url, 'POST', ACCOUNT_DATA_ROUTES.deletion, { token: alice.token, body: { email: alice.email } });
    expect(accepted.status).toBe(202);
    await waitFor(async () => (await peek<{ desired_state: string }>('select desired_state from bots where id = ?', alice.botId))[0]?.desired_state === 'stopping', { what: 'the bot told to stop' });

    // Killed while step 1 waits for the orchestrator.
    await kill(api.child);
    expect(await peek<{ step: string }>('select step from account_deletions')).toEqual([{ step: 'stopping_bots' }]);

    // Started again with the broker gone: the bot stops, and step 2 waits for the broker.
    await broker.close();
    api = await startApiProcess(broker, databaseUrl);
    expect(await stopAsOrchestrator({ url: api.url, orchestratorToken }, alice.botId)).toBe(204);
    await waitFor(async () => (await peek<{ step: string; detail: string | null }>('select step, detail from account_deletions')).find((job) => job.step === 'destroying_key_pairs' && job.detail?.includes('key broker')), { what: 'step 2 waiting for the broker' });
    expect(await peek('select id from users where id = ?', alice.userId)).toHaveLength(1);

    // Killed again; the broker comes back (same store, new address) and so does the API.
    await kill(api.child);
    broker = await startTestBroker({ dataDir: brokerData });
    brokers.push(broker);
    const sealingKeyCount = (recordId: string) => (broker.app.store.connection.prepare('select count(*) as n from sealing_keys where record_id = ?').get(recordId) as { n: number }).n;
    expect(records.map(sealingKeyCount)).toEqual(records.map(() => 1));
    api = await startApiProcess(broker, databaseUrl);

    await waitFor(async () => (await peek('select id from account_deletions')).length === 0, { what: 'the deletion to finish after the restart' });
    expect(await peek('select id from users where id = ?', alice.userId)).toEqual([]);
    expect(await peek('select record_id from sealing_key_destructions')).toEqual([]);
    expect(await peek<{ action: string; actor: string | null }>('select action, actor from audit_log where subject = ?', accepted.body.reference)).toEqual([{ action: 'account.deleted', actor: null }]);
    for (const recordId of records) {
      expect(sealingKeyCount(recordId)).toBe(0);
      const credential = await broker.orchestrator('POST', '/v1/instance-credentials', { userId: alice.userId, recordId, botId: alice.botId, instanceId: 'inst-after', ttlSeconds: 60 });
      expect(credential.status).toBe(404);
    }
    await kill(api.child);
    await broker.close();
    brokers.length = 0;
    brokerDir.cleanup();
  });
}
