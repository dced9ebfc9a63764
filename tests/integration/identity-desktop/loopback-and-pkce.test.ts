import { createHash } from 'node:crypto';
import { request } from 'node:http';
import { connect } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { HandoffRequest, TokenRequest } from '../../../src-shared/identity.ts';
import { LoopbackListener } from '../../../src-main/services/identity/loopback.ts';
import { createPkce, createState, sameSecret } from '../../../src-main/services/identity/pkce.ts';
import { SseParser } from '../../../src-main/services/events/sse.ts';

const STATE = 'state-0123456789abcdefghijklmnopqrstuvwxyzABCD';
const CODE = 'code-0123456789abcdefghijklmnopqrstuvwxyz_-ABC';

/** A GET as a browser sends it, on a fresh connection; `host` overrides the Host header. */
function get(url: string, headers: Record<string, string> = {}, method = 'GET'): Promise<{ status: number; body: string; headers: Record<string, string | string[] | undefined> }> {
  return new Promise((resolve, reject) => {
    const req = request(url, { method, headers, agent: false }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => (body += chunk));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body, headers: res.headers }));
    });
    req.on('error', reject);
    req.end();
  });
}

function connects(host: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host, port });
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

const portOf = (listener: LoopbackListener) => Number(new URL(listener.origin).port);

describe('PKCE and state for the hand-off', () => {
  it('makes a 256-bit S256 verifier and challenge the API accepts, fresh each time', () => {
    const a = createPkce();
    const b = createPkce();
    expect(a.verifier).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(a.challenge).toBe(createHash('sha256').update(a.verifier).digest('base64url'));
    expect(a.verifier).not.toBe(b.verifier);
    const state = createState();
    expect(state).not.toBe(createState());
    expect(
      HandoffRequest.safeParse({ purpose: 'signin', redirectUri: 'http://127.0.0.1:4242/callback', state, codeChallenge: a.challenge, codeChallengeMethod: 'S256' }).success,
    ).toBe(true);
    expect(TokenRequest.safeParse({ code: CODE, codeVerifier: a.verifier }).success).toBe(true);
  });

  it('compares secrets whatever their length', () => {
    expect(sameSecret(STATE, STATE)).toBe(true);
    expect(sameSecret(`${STATE}x`, STATE)).toBe(false);
    expect(sameSecret('', STATE)).toBe(false);
    expect(sameSecret(STATE.slice(0, -1) + 'E', STATE)).toBe(false);
  });
});

describe('the loopback listener (RFC 8252 §7.3)', () => {
  const open: LoopbackListener[] = [];
  const listen = async (timeoutMs = 60_000) => {
    const listener = await LoopbackListener.open({ state: STATE, timeoutMs });
    open.push(listener);
    return listener;
  };
  afterEach(() => {
    for (const listener of open.splice(0)) listener.cancel();
  });

  it('listens on 127.0.0.1 only, on a port the OS picked, at /callback', async () => {
    const listener = await listen();
    expect(listener.redirectUri).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/callback$/);
    expect(await connects('127.0.0.1', portOf(listener))).toBe(true);
    // The rest of 127/8 and IPv6 loopback reach this machine too, but not this listener.
    expect(await connects('127.0.0.2', portOf(listener))).toBe(false);
    expect(await connects('::1', portOf(listener))).toBe(false);
  });

  it('refuses a wrong or missing state and keeps waiting; the right one resolves once', async () => {
    const listener = await listen();
    const wrong = await get(`${listener.redirectUri}?code=${CODE}&state=${STATE.slice(0, -1)}X`);
    expect(wrong.status).toBe(400);
    expect(wrong.body).toContain('This link does not belong to this sign-in');
    expect((await get(`${listener.redirectUri}?code=${CODE}`)).status).toBe(400);
    expect((await get(`${listener.redirectUri}?code=${CODE}&state=${STATE}extra`)).status).toBe(400);
    expect(listener.closed).toBe(false);

    const right = await get(`${listener.redirectUri}?code=${CODE}&state=${STATE}`);
    expect(right.status).toBe(200);
    expect(right.body).toContain('You can close this tab and return to plutarc');
    // Styled, and closing itself where the browser lets it: its one style and one script are exactly what the
    // policy's hashes allow; it loads nothing and posts nothing.
    expect(right.body).not.toMatch(/<img|<link|<form|<iframe| on[a-z]+=/i);
    const inline = (tag: string) => [...right.body.matchAll(new RegExp(`<${tag}>([^<]*)</${tag}>`, 'g'))].map((m) => m[1]!);
    const [style] = inline('style');
    const [script] = inline('script');
    expect(inline('script')).toHaveLength(1);
    expect(script).toContain('window.close()');
    const hash = (source: string) => `'sha256-${createHash('sha256').update(source).digest('base64')}'`;
    expect(right.headers['content-security-policy']).toBe(
      `default-src 'none'; style-src ${hash(style!)}; script-src ${hash(script!)}; base-uri 'none'; form-action 'none'; frame-ancestors 'none'`,
    );
    // A refusal page is styled the same, and does not close itself: its words must stay readable.
    expect(wrong.body).toContain(`<style>${style}</style>`);
    expect(wrong.body).not.toContain('<script');
    expect(right.headers['referrer-policy']).toBe('no-referrer');
    expect(right.headers['cache-control']).toBe('no-store');
    expect(await listener.outcome).toEqual({ kind: 'code', code: CODE });

    // A second callback (a replayed or forwarded link) finds nothing to complete.
    const again = await get(`${listener.redirectUri}?code=${CODE}&state=${STATE}`).catch((error: NodeJS.ErrnoException) => error.code);
    expect(again === 'ECONNREFUSED' || (typeof again === 'object' && again.status === 410)).toBe(true);
    expect(await connects('127.0.0.1', portOf(listener))).toBe(false);
  });

  it('refuses a right state with a missing or malformed code, and keeps waiting', async () => {
    const listener = await listen();
    expect((await get(`${listener.redirectUri}?state=${STATE}`)).status).toBe(400);
    expect((await get(`${listener.redirectUri}?state=${STATE}&code=short`)).status).toBe(400);
    expect((await get(`${listener.redirectUri}?state=${STATE}&code=${CODE}%3Cscript%3E`)).status).toBe(400);
    expect(listener.closed).toBe(false);
  });

  it('answers only GET /callback at its own Host (no DNS rebinding)', async () => {
    const listener = await listen();
    const query = `?code=${CODE}&state=${STATE}`;
    expect((await get(`${listener.origin}/other${query}`)).status).toBe(404);
    expect((await get(`${listener.redirectUri}${query}`, {}, 'POST')).status).toBe(405);
    expect((await get(`${listener.redirectUri}${query}`, { host: `evil.example.test:${portOf(listener)}` })).status).toBe(421);
    expect((await get(`${listener.redirectUri}${query}`, { host: `localhost:${portOf(listener)}` })).status).toBe(421);
    expect(listener.closed).toBe(false);
  });

  it('times out, and closes its port', async () => {
    const listener = await listen(150);
    expect(await listener.outcome).toEqual({ kind: 'timeout' });
    expect(await connects('127.0.0.1', portOf(listener))).toBe(false);
  });

  it('can be cancelled, and closes its port; a late callback then finds nothing', async () => {
    const listener = await listen();
    listener.cancel();
    expect(await listener.outcome).toEqual({ kind: 'cancelled' });
    expect(await connects('127.0.0.1', portOf(listener))).toBe(false);
    listener.cancel();
    expect(await listener.outcome).toEqual({ kind: 'cancelled' });
  });
});

describe('the server-sent events parser', () => {
  it('parses events split anywhere, CRLF included, with ids, types, comments and retry', () => {
    const stream = 'retry: 3000\r\n\r\n: keep-alive\r\n\r\nid: 7\r\nevent: session.created\r\ndata: {"a":\r\ndata: 1}\r\n\r\nid: 8\nevent: x\ndata:plain\n\n';
    for (const size of [1, 2, 3, 7, stream.length]) {
      const parser = new SseParser();
      const events = [];
      for (let i = 0; i < stream.length; i += size) events.push(...parser.push(stream.slice(i, i + size)));
      expect(events).toEqual([
        { id: '7', event: 'session.created', data: '{"a":\n1}' },
        { id: '8', event: 'x', data: 'plain' },
      ]);
      expect(parser.lastEventId).toBe('8');
      expect(parser.retryMs).toBe(3000);
    }
  });

  it('lets an id without data move the resume point without an event', () => {
    const parser = new SseParser();
    expect(parser.push('id: 41\n\n')).toEqual([]);
    expect(parser.lastEventId).toBe('41');
    expect(parser.push('data: x\n')).toEqual([]);
    expect(parser.push('\n')).toEqual([{ id: '41', event: 'message', data: 'x' }]);
  });
});
