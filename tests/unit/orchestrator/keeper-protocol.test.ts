// The keeper socket's framing and message checks, on an in-memory stream.
import { PassThrough } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { KeeperMessage, KeeperRequest, MAX_LINE_BYTES, readLines } from '../../../src-orchestrator/local/keeper-protocol.ts';

function collect(stream: PassThrough): string[] {
  const lines: string[] = [];
  readLines(stream, (line) => lines.push(line.toString('utf8')));
  return lines;
}

describe('keeper socket framing', () => {
  it('splits lines wherever the chunks break, several to a chunk or one across many', () => {
    const stream = new PassThrough();
    const lines = collect(stream);
    for (const chunk of ['{"a":', '1}\n{"b"', ':2}\n{"c":3}\n{"d"']) stream.emit('data', Buffer.from(chunk));
    expect(lines).toEqual(['{"a":1}', '{"b":2}', '{"c":3}']);
    stream.emit('data', Buffer.from(':4}\n'));
    expect(lines.at(-1)).toBe('{"d":4}');
  });

  it('zeroes the bytes it has consumed, where they arrived and in the line handed over', () => {
    const stream = new PassThrough();
    let handed: Buffer | null = null;
    readLines(stream, (line) => (handed = line));
    const chunk = Buffer.from('{"credential":"c2VjcmV0"}\n');
    stream.emit('data', chunk);
    expect(chunk.every((byte) => byte === 0)).toBe(true);
    expect(handed!.every((byte) => byte === 0)).toBe(true);
  });

  it('drops a connection whose line grows past the limit instead of buffering it', async () => {
    const stream = new PassThrough();
    const lines = collect(stream);
    const failed = new Promise<Error>((resolve) => stream.once('error', resolve));
    stream.emit('data', Buffer.alloc(MAX_LINE_BYTES + 1, 0x61));
    expect((await failed).message).toContain('longer than allowed');
    expect(stream.destroyed).toBe(true);
    expect(lines).toEqual([]);
  });
});

describe('keeper messages', () => {
  const spec = {
    botId: 'bot-1',
    instanceId: 'inst-1',
    runId: 'run-1',
    command: { executable: '/usr/bin/node', entry: 'src-bot/main.ts', args: [] },
    credential: Buffer.from('one-time').toString('base64'),
    egress: [],
    limits: { memoryBytes: 64 * 1024 * 1024, cpus: 1, pids: 64, scratchBytes: 1024 * 1024 },
  };
  const run = { appRoot: '/app', appPaths: ['src-bot'], graceMs: 5_000, exchangeRoundTripMs: null };

  it('takes a well-formed provision', () => {
    expect(KeeperRequest.parse({ id: 1, op: 'provision', spec, region: 'eu', run })).toMatchObject({ op: 'provision', spec: { instanceId: 'inst-1', labels: {} } });
  });

  it.each([
    ['an instance id that could leave its folder', { id: 1, op: 'provision', spec: { ...spec, instanceId: '../etc' }, region: 'eu', run }, 'spec.instanceId'],
    ['a credential that is not base64', { id: 1, op: 'provision', spec: { ...spec, credential: 'not base64!' }, region: 'eu', run }, 'spec.credential'],
    ['an app path climbing out of the app folder', { id: 1, op: 'provision', spec, region: 'eu', run: { ...run, appPaths: ['../../root'] } }, 'run.appPaths.0'],
    ['an unknown region', { id: 1, op: 'provision', spec, region: 'mars', run }, 'region'],
    ['an unknown operation', { id: 1, op: 'exec', command: 'sh' }, 'op'],
  ])('refuses %s', (_what, request, path) => {
    const parsed = KeeperRequest.safeParse(request);
    expect(parsed.success).toBe(false);
    expect(parsed.error!.issues.map((issue) => issue.path.join('.'))).toContain(path);
  });

  it('refuses an event whose exit names no real signal', () => {
    const status = {
      instanceId: 'inst-1',
      botId: 'bot-1',
      region: 'eu',
      labels: {},
      state: 'exited',
      startedAt: 1,
      exit: { code: null, signal: 'SIGNOPE', oomKilled: false, requested: false, at: 2 },
      isolation: { sandbox: { on: false, kind: 'none', reason: 'x' }, limits: { on: false, kind: 'none', reason: 'x' }, network: { on: false, kind: 'none', reason: 'x' } },
      simulatedExchangeRoundTripMs: null,
    };
    expect(KeeperMessage.safeParse({ type: 'event', event: { kind: 'exited', status } }).success).toBe(false);
    expect(KeeperMessage.safeParse({ type: 'event', event: { kind: 'exited', status: { ...status, exit: { ...status.exit, signal: 'SIGKILL' } } } }).success).toBe(true);
  });
});
