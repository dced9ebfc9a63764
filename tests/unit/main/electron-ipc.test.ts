import { describe, expect, it } from 'vitest';
import { invokeChannels, wireInvoke } from '../../../src-shared/ipc.ts';
import { isTrustedSender, registerIpcHandlers } from '../../../src-main/electron/ipc.ts';
import type { Handlers } from '../../../src-main/services/dispatch.ts';

type Handler = (event: unknown, input: unknown) => unknown;

function register() {
  const registered = new Map<string, Handler>();
  // The wrapper only calls the handler of the channel invoked: these tests invoke regions.list.
  const handlers = { 'regions.list': () => [] } as Partial<Handlers> as Handlers;
  registerIpcHandlers({ handle: ((channel: string, fn: Handler) => registered.set(channel, fn)) as never }, handlers, () => {});
  return registered;
}

const frame = (url: string) => ({ url });
const eventFrom = (url: string, { subframe = false } = {}) => {
  const mainFrame = frame(url);
  return { senderFrame: subframe ? frame(url) : mainFrame, sender: { mainFrame } };
};

describe('the validating IPC wrapper', () => {
  it('registers exactly the contract channels, prefixed', () => {
    expect([...register().keys()].sort()).toEqual(invokeChannels.map(wireInvoke).sort());
  });

  it('answers our own main frame at app://plutarc', async () => {
    const handler = register().get(wireInvoke('regions.list'))!;
    expect(await handler(eventFrom('app://plutarc/index.html'), undefined)).toEqual({ ok: true, value: [] });
  });

  it.each([
    ['a subframe of our page', eventFrom('app://plutarc/index.html', { subframe: true })],
    ['another app:// host', eventFrom('app://evil/index.html')],
    ['a remote page', eventFrom('https://plutarc.app.evil.test/')],
    ['a file:// page', eventFrom('file:///tmp/index.html')],
    ['a lookalike host', eventFrom('app://plutarc.evil/index.html')],
    ['a frame without a URL', eventFrom('not a url')],
    ['no frame at all', { senderFrame: null, sender: { mainFrame: frame('app://plutarc/') } }],
  ])('refuses %s', async (_name, event) => {
    const handler = register().get(wireInvoke('regions.list'))!;
    expect(await handler(event, undefined)).toMatchObject({ ok: false, code: 'forbidden_sender' });
  });

  it('checks the payload after the sender', async () => {
    const handler = register().get(wireInvoke('regions.list'))!;
    expect(await handler(eventFrom('app://plutarc/'), { x: 1 })).toMatchObject({ ok: false, code: 'invalid_input' });
  });

  it('isTrustedSender compares frames by identity, not by URL', () => {
    const main = frame('app://plutarc/');
    expect(isTrustedSender(main, { mainFrame: main } as never)).toBe(true);
    expect(isTrustedSender(frame('app://plutarc/'), { mainFrame: main } as never)).toBe(false);
  });
});
