// The bot's socket hand-off (src-bot/handoff.ts): the bot waits on a unix socket in a folder it makes private, takes
// one connection, answers whether the hand-off parsed, and unlinks the socket before anything else; the relay copies
// its input there and reports with its exit code. Real sockets in a temp folder.
import { existsSync, mkdirSync, statSync } from 'node:fs';
import { createConnection } from 'node:net';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { HandOffError, RELAY_EXIT, receiveHandOff, relayHandOff } from '../../../src-bot/handoff.ts';
import { tempDir } from '../../support/temp.ts';

const HAND_OFF = {
  botId: 'bot-1',
  instanceId: 'inst-1',
  apiUrl: 'http://127.0.0.1:1/',
  brokerUrl: 'http://127.0.0.1:2/',
  instanceToken: 'A'.repeat(43),
  brokerCredential: 'broker-credential-of-inst-1',
};

const input = (text: string) => Readable.from([Buffer.from(text)]);

describe('the bot’s hand-off on a unix socket', () => {
  let dir: ReturnType<typeof tempDir>;
  let socketPath: string;
  beforeEach(() => {
    dir = tempDir('plutarc-handoff-socket-');
    socketPath = join(dir.path, 'private', 'handoff.sock');
  });
  afterEach(() => dir.cleanup());

  it('takes the hand-off the relay brings, in a folder of its own that no one else can enter, and unlinks the socket', async () => {
    const received = receiveHandOff(socketPath, 60_000);
    expect(statSync(join(dir.path, 'private')).mode & 0o777).toBe(0o700);
    expect(await relayHandOff(socketPath, input(JSON.stringify(HAND_OFF)))).toEqual({ code: RELAY_EXIT.delivered, why: 'delivered' });
    expect(await received).toEqual(HAND_OFF);
    expect(existsSync(socketPath)).toBe(false);
  });

  it('refuses what is not a hand-off, tells the relay so, and leaves no socket', async () => {
    const received = receiveHandOff(socketPath, 60_000);
    const outcome = received.catch((error: unknown) => error);
    const relayed = await relayHandOff(socketPath, input(JSON.stringify({ ...HAND_OFF, extra: 'field' })));
    expect(relayed.code).toBe(RELAY_EXIT.refused);
    const error = await outcome;
    expect(error).toBeInstanceOf(HandOffError);
    expect((error as Error).message).toMatch(/expected fields/);
    expect(existsSync(socketPath)).toBe(false);
  });

  it('refuses text that is not JSON', async () => {
    const outcome = receiveHandOff(socketPath, 60_000).catch((error: unknown) => error);
    expect((await relayHandOff(socketPath, input('{not json'))).code).toBe(RELAY_EXIT.refused);
    expect(((await outcome) as Error).message).toMatch(/not JSON/);
  });

  it('takes one connection only: a second relay finds no bot', async () => {
    const received = receiveHandOff(socketPath, 60_000);
    expect((await relayHandOff(socketPath, input(JSON.stringify(HAND_OFF)))).code).toBe(RELAY_EXIT.delivered);
    await received;
    const second = await relayHandOff(socketPath, input(JSON.stringify({ ...HAND_OFF, brokerCredential: 'someone-else' })));
    expect(second.code).toBe(RELAY_EXIT.noBot);
    expect(second.why).toMatch(/no bot listens/);
  });

  it('the relay says so when no bot listens, without printing what it carries', async () => {
    const relayed = await relayHandOff(socketPath, input(JSON.stringify(HAND_OFF)));
    expect(relayed.code).toBe(RELAY_EXIT.noBot);
    expect(relayed.why).not.toContain(HAND_OFF.brokerCredential);
  });

  it('gives up with a clear error when nothing arrives in time, and leaves no socket', async () => {
    await expect(receiveHandOff(socketPath, 1_000)).rejects.toThrow(/no hand-off arrived on .*handoff\.sock within 1 s/);
    expect(existsSync(socketPath)).toBe(false);
  });

  it('will not wait in a folder others can enter', async () => {
    mkdirSync(join(dir.path, 'private'), { mode: 0o755 });
    expect(() => receiveHandOff(socketPath, 60_000)).toThrow(/not a private folder of this bot/);
  });

  it('refuses a hand-off larger than any real one, from a relay or anyone writing to the socket', async () => {
    expect((await relayHandOff(socketPath, input('x'.repeat(20 * 1024)))).code).toBe(RELAY_EXIT.failed);
    const outcome = receiveHandOff(socketPath, 60_000).catch((error: unknown) => error);
    const answer = await new Promise<string>((resolve) => {
      const socket = createConnection({ path: socketPath, allowHalfOpen: true }, () => socket.end('x'.repeat(20 * 1024)));
      let text = '';
      socket.setEncoding('utf8').on('data', (chunk: string) => (text += chunk));
      socket.once('close', () => resolve(text));
    });
    expect(answer).toBe('refused\n');
    expect(((await outcome) as Error).message).toMatch(/larger than any real one/);
  });
});
