import { createHash, generateKeyPairSync, randomBytes } from 'node:crypto';
import { createServer, request as httpRequest, type Server } from 'node:http';
import type { Page } from '@playwright/test';
import { expect, test } from './identity-fixtures.ts';
import {
  addPasskey,
  confirmWithPassword,
  createAccount,
  finishOnHostedPage,
  openHostedPage,
  openSecurity,
  passkeyRows,
  signedInNav,
  signInScreen,
  signOut,
  uniqueEmail,
} from './identity-steps.ts';
import type { VirtualPasskeys } from './virtual-passkeys.ts';

/** An account with one passkey, signed out again: ready for a passkey sign-in. */
async function accountWithPasskey(app: Page, passkeys: VirtualPasskeys): Promise<string> {
  const email = uniqueEmail();
  await createAccount(app, email);
  await openSecurity(app);
  await addPasskey(app, passkeys, 'Laptop');
  await signOut(app);
  return email;
}

/** Starts "Add passkey" (confirming with the password) and returns the hosted page's address. */
async function startAddingPasskey(app: Page): Promise<URL> {
  await openSecurity(app);
  await app.getByRole('button', { name: 'Add passkey' }).click();
  await confirmWithPassword(app);
  return new URL((await app.getByRole('link', { name: 'Continue in a new tab' }).getAttribute('href')) ?? '');
}

const passkeyStep = (app: Page) => app.getByRole('group', { name: 'Passkey in progress' });
const COMPLETE = /\/v1\/desktop\/handoffs\/[^/]+\/complete$/;

test('a passkey that cannot verify the user is refused, in the browser and by the API', async ({ app, passkeys }) => {
  await accountWithPasskey(app, passkeys);
  await app.getByRole('button', { name: 'Sign in with a passkey' }).click();
  const { tab, authenticator } = await openHostedPage(app, passkeys);
  // The fingerprint or PIN check fails: the API asks for a verified user, so there is no assertion.
  await authenticator.setUserVerified(false);
  const completions: string[] = [];
  tab.on('request', (request) => COMPLETE.test(request.url()) && completions.push(request.url()));
  await tab.getByRole('button', { name: 'Sign in with a passkey' }).click();
  await expect(tab.getByRole('alert')).toContainText('No passkey was used');
  await expect(tab.getByRole('alert')).toContainText("could not confirm it's you");
  expect(completions).toEqual([]);

  // An authenticator that says it verified nobody, whatever the browser believes: the API refuses it.
  await authenticator.setUserVerified(true);
  await authenticator.overrideResponses({ isBadUV: true });
  const completed = tab.waitForResponse((response) => COMPLETE.test(response.url()));
  await tab.getByRole('button', { name: 'Try again' }).click();
  expect((await completed).status()).toBe(400);
  await expect(tab.getByRole('alert')).toContainText('Passkey not accepted');
  await expect(signInScreen(app)).toBeVisible();
  // The app is still waiting, and can stop.
  await expect(passkeyStep(app)).toContainText('Waiting for your passkey');
  await passkeyStep(app).getByRole('button', { name: 'Cancel' }).click();
  await expect(passkeyStep(app)).toHaveCount(0);
  await expect(app.getByRole('button', { name: 'Sign in with a passkey' })).toBeVisible();
  await expect(signInScreen(app)).toBeVisible();
});

test('a passkey answer with a bogus signature is rejected; a good one then gets in', async ({ app, passkeys }) => {
  const email = await accountWithPasskey(app, passkeys);
  await app.getByRole('button', { name: 'Sign in with a passkey' }).click();
  const { tab, authenticator } = await openHostedPage(app, passkeys);
  await authenticator.overrideResponses({ isBogusSignature: true });
  await tab.getByRole('button', { name: 'Sign in with a passkey' }).click();
  await expect(tab.getByRole('alert')).toContainText('Passkey not accepted');
  await expect(tab.getByRole('alert')).toContainText('This passkey could not be verified.');
  await expect(signInScreen(app)).toBeVisible();

  await authenticator.overrideResponses({ isBogusSignature: false });
  await finishOnHostedPage(tab, passkeys, authenticator, 'Try again');
  await expect(signedInNav(app)).toContainText(email);
});

test('a passkey answer cannot be used twice', async ({ app, passkeys, identityStack }) => {
  const email = await accountWithPasskey(app, passkeys);
  await app.getByRole('button', { name: 'Sign in with a passkey' }).click();
  const { tab, authenticator } = await openHostedPage(app, passkeys);
  const sent = tab.waitForRequest((request) => COMPLETE.test(request.url()));
  await finishOnHostedPage(tab, passkeys, authenticator, 'Sign in with a passkey');
  await expect(signedInNav(app)).toContainText(email);
  const completion = await sent;
  const body = completion.postData() ?? '';
  const post = (path: string, payload: string) =>
    fetch(new URL(path, identityStack.apiUrl), { method: 'POST', headers: { 'content-type': 'application/json' }, body: payload });

  // The same answer again, to the same hand-off: it is used up.
  const again = await post(new URL(completion.url()).pathname, body);
  expect(again.status).toBe(404);
  expect(await again.json()).toMatchObject({ code: 'handoff_expired' });

  // The same answer to a fresh hand-off: its challenge is not the one that was signed.
  const fresh = await post('/v1/desktop/handoffs', JSON.stringify({
    purpose: 'signin',
    redirectUri: 'http://127.0.0.1:9/callback',
    state: randomBytes(16).toString('base64url'),
    codeChallenge: createHash('sha256').update(randomBytes(32)).digest('base64url'),
    codeChallengeMethod: 'S256',
  }));
  expect(fresh.status).toBe(201);
  const { id } = (await fresh.json()) as { id: string };
  expect((await post(`/v1/desktop/handoffs/${id}/options`, '{}')).status).toBe(200);
  const replayed = await post(`/v1/desktop/handoffs/${id}/complete`, body);
  expect(replayed.status).toBe(400);
  expect(await replayed.json()).toMatchObject({ code: 'passkey_rejected' });
});

/** The hosted pages as seen through another address: a plain proxy on another localhost port. */
async function proxyTo(target: string): Promise<{ origin: string; close(): Promise<void> }> {
  const upstream = new URL(target);
  const server: Server = createServer((incoming, outgoing) => {
    const forward = httpRequest(
      { host: upstream.hostname, port: upstream.port, path: incoming.url, method: incoming.method, headers: { ...incoming.headers, host: upstream.host } },
      (answer) => {
        outgoing.writeHead(answer.statusCode ?? 502, answer.headers);
        answer.pipe(outgoing);
      },
    );
    forward.on('error', () => outgoing.destroy());
    incoming.pipe(forward);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  return {
    origin: `http://localhost:${port}`,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

test('a passkey made on another origin is refused', async ({ app, passkeys, identityStack }) => {
  await createAccount(app, uniqueEmail());
  const authorize = await startAddingPasskey(app);
  const proxy = await proxyTo(identityStack.apiUrl);
  try {
    const tab = await app.context().newPage();
    const authenticator = await passkeys.attach(tab);
    await tab.goto(`${proxy.origin}${authorize.pathname}${authorize.search}`);
    // The page works there (it only talks to its own origin)…
    await expect(tab.getByRole('heading', { name: /^Add a passkey to / })).toBeVisible();
    const completed = tab.waitForResponse((response) => COMPLETE.test(response.url()));
    await tab.getByRole('button', { name: 'Create passkey' }).click();
    // …and the browser makes the passkey for localhost, but the API hears it came from elsewhere.
    expect((await completed).status()).toBe(400);
    await expect(tab.getByRole('alert')).toContainText('Passkey not accepted');
    expect(await authenticator.credentials()).toHaveLength(1);
    await tab.close();
  } finally {
    await proxy.close();
  }
  await passkeyStep(app).getByRole('button', { name: 'Cancel' }).click();
  await expect(app.getByText('No passkeys yet.')).toBeVisible();
});

test('the browser will not sign for a relying party the page does not belong to', async ({ app, passkeys }) => {
  await createAccount(app, uniqueEmail());
  await startAddingPasskey(app);
  const { tab } = await openHostedPage(app, passkeys);
  await tab.route('**/v1/desktop/handoffs/*/options', async (route) => {
    const options = (await (await route.fetch()).json()) as { rp: { id: string; name: string } };
    await route.fulfill({ json: { ...options, rp: { ...options.rp, id: 'plutarc.example' } } });
  });
  await tab.getByRole('button', { name: 'Create passkey' }).click();
  await expect(tab.getByRole('alert')).toContainText('Passkeys are not allowed here');
  await passkeyStep(app).getByRole('button', { name: 'Cancel' }).click();
  await expect(app.getByText('No passkeys yet.')).toBeVisible();
});

// A minimal CBOR encoder (RFC 8949) for the attestation object below: unsigned and negative
// integers, byte strings, text strings and maps are all it needs.
type Cbor = number | string | Uint8Array | Map<Cbor, Cbor>;
function cbor(value: Cbor): Buffer {
  const head = (major: number, length: number): Buffer => {
    if (length < 24) return Buffer.from([(major << 5) | length]);
    if (length < 0x100) return Buffer.from([(major << 5) | 24, length]);
    const b = Buffer.alloc(3);
    b[0] = (major << 5) | 25;
    b.writeUInt16BE(length, 1);
    return b;
  };
  if (typeof value === 'number') return value >= 0 ? head(0, value) : head(1, -1 - value);
  if (typeof value === 'string') return Buffer.concat([head(3, Buffer.byteLength(value)), Buffer.from(value)]);
  if (value instanceof Uint8Array) return Buffer.concat([head(2, value.length), value]);
  return Buffer.concat([head(5, value.size), ...[...value].flatMap(([k, v]) => [cbor(k), cbor(v)])]);
}

/** A registration answer as an authenticator would make it, for `rpId`, with no attestation (fmt "none"). */
function craftedRegistration(options: { challenge: string; origin: string; rpId: string }) {
  const { publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const jwk = publicKey.export({ format: 'jwk' });
  const coseKey = cbor(new Map<Cbor, Cbor>([[1, 2], [3, -7], [-1, 1], [-2, Buffer.from(jwk.x!, 'base64url')], [-3, Buffer.from(jwk.y!, 'base64url')]]));
  const credentialId = randomBytes(16);
  const counter = Buffer.alloc(4);
  const idLength = Buffer.alloc(2);
  idLength.writeUInt16BE(credentialId.length);
  const authData = Buffer.concat([
    createHash('sha256').update(options.rpId).digest(),
    Buffer.from([0x45]), // user present, user verified, attested credential data
    counter,
    Buffer.alloc(16), // AAGUID
    idLength,
    credentialId,
    coseKey,
  ]);
  const clientDataJSON = JSON.stringify({ type: 'webauthn.create', challenge: options.challenge, origin: options.origin, crossOrigin: false });
  return {
    id: credentialId.toString('base64url'),
    rawId: credentialId.toString('base64url'),
    type: 'public-key',
    clientExtensionResults: {},
    response: {
      clientDataJSON: Buffer.from(clientDataJSON).toString('base64url'),
      attestationObject: cbor(new Map<Cbor, Cbor>([['fmt', 'none'], ['attStmt', new Map()], ['authData', authData]])).toString('base64url'),
      transports: ['internal'],
    },
  };
}

test('the API refuses a passkey signed for another relying party, and only for that', async ({ app, identityStack }) => {
  await createAccount(app, uniqueEmail());
  const authorize = await startAddingPasskey(app);
  const handoff = authorize.searchParams.get('handoff') ?? '';
  const api = (path: string, body: unknown) =>
    fetch(new URL(`/v1/desktop/handoffs/${handoff}${path}`, identityStack.apiUrl), {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });
  const challenge = async () => ((await (await api('/options', {})).json()) as { challenge: string }).challenge;

  // Right origin, right challenge, but made for another RP ID: refused.
  const elsewhere = craftedRegistration({ challenge: await challenge(), origin: authorize.origin, rpId: 'plutarc.example' });
  const refused = await api('/complete', { response: elsewhere, name: 'Elsewhere' });
  expect(refused.status).toBe(400);
  expect(await refused.json()).toMatchObject({ code: 'passkey_rejected' });

  // The same answer made for localhost goes through: the RP ID alone made the difference.
  const here = craftedRegistration({ challenge: await challenge(), origin: authorize.origin, rpId: 'localhost' });
  const accepted = await api('/complete', { response: here, name: 'Crafted' });
  expect(accepted.status).toBe(200);
  const { redirectTo } = (await accepted.json()) as { redirectTo: string };
  expect(redirectTo).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/callback\?code=/);
  // Following it finishes the app's hand-off: exactly one passkey, the right one.
  const tab = await app.context().newPage();
  await tab.goto(redirectTo);
  await expect(passkeyRows(app)).toHaveCount(1);
  await expect(passkeyRows(app)).toContainText('Crafted');
  await tab.close();
});

test('the app’s loopback refuses a callback with the wrong state, and takes the right one', async ({ app, passkeys }) => {
  await createAccount(app, uniqueEmail());
  await startAddingPasskey(app);
  const { tab, authenticator } = await openHostedPage(app, passkeys);
  // Hold the browser back at the redirect, as an attacker who learnt the code would be.
  let callback: URL | null = null;
  await tab.route(/^http:\/\/127\.0\.0\.1:\d+\/callback\?/, async (route) => {
    callback = new URL(route.request().url());
    await route.abort();
  });
  await tab.getByRole('button', { name: 'Create passkey' }).click();
  await expect.poll(() => callback).not.toBeNull();
  await passkeys.keep(authenticator);
  await tab.unroute(/^http:\/\/127\.0\.0\.1:\d+\/callback\?/);

  const forged = new URL(callback!);
  forged.searchParams.set('state', randomBytes(24).toString('base64url'));
  const refused = await tab.goto(forged.toString());
  expect(refused?.status()).toBe(400);
  await expect(tab.getByRole('heading', { name: 'This link does not belong to this sign-in' })).toBeVisible();
  await expect(passkeyStep(app)).toContainText('Waiting for your passkey');

  const right = await tab.goto(callback!.toString());
  expect(right?.status()).toBe(200);
  await expect(passkeyStep(app)).toHaveCount(0);
  await expect(passkeyRows(app)).toHaveCount(1);
});

test('the hosted page explains a link it cannot use', async ({ page, identityStack }) => {
  const hosted = new URL('/desktop/authorize', identityStack.apiUrl.replace('127.0.0.1', 'localhost'));
  const response = await page.goto(hosted.toString());
  expect(response?.headers()['content-security-policy']).toContain("connect-src 'self'");
  await expect(page.getByRole('alert')).toContainText('This link is incomplete');

  await page.goto(`${hosted}?handoff=${randomBytes(18).toString('base64url')}`);
  await expect(page.getByRole('alert')).toContainText('This link has expired');
  await expect(page.getByRole('alert')).toContainText('Start again from the plutarc app.');

  await page.addInitScript(() => {
    delete (window as { PublicKeyCredential?: unknown }).PublicKeyCredential;
  });
  await page.goto(`${hosted}?handoff=${randomBytes(18).toString('base64url')}`);
  await expect(page.getByRole('alert')).toContainText('This browser can’t use passkeys');
});
