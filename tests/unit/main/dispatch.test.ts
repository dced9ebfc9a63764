import { describe, expect, it, vi } from 'vitest';
import { dispatchInvoke, type Handlers } from '../../../src-main/services/dispatch.ts';
import { ServiceError } from '../../../src-main/services/errors.ts';
import type { Region } from '../../../src-shared/regions.ts';

const region: Region = { id: 'eu', name: 'Europe', city: 'Frankfurt', location: 'fra', probeUrl: 'http://127.0.0.1:1/p', simulated: true, exchangeLatencies: [] };

// dispatchInvoke only ever calls the handler of the channel it is given: these tests need three.
const handlers = (overrides: Partial<Handlers> = {}): Handlers =>
  ({
    'app.info': () => ({ version: '1.0.0', host: 'browser', apiUrl: 'http://127.0.0.1:1', platform: 'linux' }),
    'api.status': () => ({ state: 'online', checkedAt: null }),
    'regions.list': () => [region],
    ...overrides,
  }) as Handlers;

describe('dispatchInvoke', () => {
  it('runs a contract channel and wraps its value', async () => {
    expect(await dispatchInvoke(handlers(), 'regions.list', undefined)).toEqual({ ok: true, value: [region] });
  });

  it('refuses a channel that is not in the contract, including prototype names', async () => {
    for (const channel of ['shell.openExternal', 'constructor', '__proto__', 'toString']) {
      expect(await dispatchInvoke(handlers(), channel, undefined)).toMatchObject({ ok: false, code: 'unknown_channel' });
    }
  });

  it('refuses a payload the contract does not allow, before any handler runs', async () => {
    const list = vi.fn(() => [region]);
    const result = await dispatchInvoke(handlers({ 'regions.list': list }), 'regions.list', { evil: true });
    expect(result).toMatchObject({ ok: false, code: 'invalid_input' });
    expect(list).not.toHaveBeenCalled();
  });

  it('passes a ServiceError on as its code and message', async () => {
    const failing = handlers({
      'regions.list': () => {
        throw new ServiceError('api_unreachable', 'Cannot reach the plutarc API.');
      },
    });
    expect(await dispatchInvoke(failing, 'regions.list', undefined)).toEqual({
      ok: false,
      code: 'api_unreachable',
      message: 'Cannot reach the plutarc API.',
    });
  });

  it('passes on how long a refusal asks to wait, so the renderer counts it down without reading the sentence', async () => {
    const throttled = handlers({
      'regions.list': () => {
        throw new ServiceError('too_many_attempts', 'Too many attempts. Try again in 7 s.', 7);
      },
    });
    expect(await dispatchInvoke(throttled, 'regions.list', undefined)).toEqual({
      ok: false,
      code: 'too_many_attempts',
      message: 'Too many attempts. Try again in 7 s.',
      retryAfterSeconds: 7,
    });
  });

  it('hides the details of an unexpected failure from the renderer, and reports it to main', async () => {
    const onUnexpected = vi.fn();
    const failing = handlers({
      'regions.list': () => {
        throw new Error('token=abc123 in /home/user/secret');
      },
    });
    const result = await dispatchInvoke(failing, 'regions.list', undefined, onUnexpected);
    expect(result).toMatchObject({ ok: false, code: 'internal' });
    expect(JSON.stringify(result)).not.toContain('abc123');
    expect(onUnexpected).toHaveBeenCalledOnce();
  });

  it('refuses to hand the renderer a value that breaks the contract', async () => {
    const broken = handlers({ 'regions.list': () => [{ id: 'mars' }] as never });
    expect(await dispatchInvoke(broken, 'regions.list', undefined)).toMatchObject({ ok: false, code: 'internal' });
  });
});
