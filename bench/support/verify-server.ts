// Stand-ins for the API in the identity bench, each its own process as the API is: the same Argon2id
// verify per request behind `http` (the smallest node:http server) or `framework` (the API's own server
// factory: Fastify, the sign-in route's zod schemas both ways, problem+json; no database, a canned answer
// of the API's shape and size). With them the bench tells apart what HTTP, the framework and the API's
// own work (throttle, reads, the session's writes) each cost.
import { randomBytes, randomUUID } from 'node:crypto';
import { createServer as createHttpServer } from 'node:http';
import { hash, verify } from '@node-rs/argon2';
import { ARGON2_PARAMS } from '../../src-api/modules/identity/passwords.ts';
import { createServer } from '../../src-server/server.ts';
import { PasswordSignInRequest, SessionGrant } from '../../src-shared/identity.ts';
import { BENCH_PASSWORD } from './api-process.ts';

const mode = process.argv[2];
const phc = await hash(BENCH_PASSWORD, ARGON2_PARAMS);
const ready = (url: string) => process.send?.({ url });
process.on('SIGTERM', () => process.exit(0));

if (mode === 'http') {
  const server = createHttpServer((request, response) => {
    request.resume();
    request.on('end', () => void verify(phc, BENCH_PASSWORD).then(() => response.end('{}')));
  });
  server.listen(0, '127.0.0.1', () => {
    const address = server.address();
    ready(`http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}`);
  });
} else if (mode === 'framework') {
  const at = new Date().toISOString();
  const answer: SessionGrant = {
    token: randomBytes(32).toString('base64url'),
    user: { id: randomUUID(), email: 'bench@example.test', createdAt: at, hasPassword: true, passkeyCount: 0 },
    session: {
      id: randomUUID(),
      kind: 'desktop',
      method: 'password',
      deviceLabel: 'plutarc desktop bench on bench',
      firstIp: '127.0.0.1',
      lastIp: '127.0.0.1',
      createdAt: at,
      lastSeenAt: at,
      expiresAt: at,
      current: true,
    },
  };
  const app = createServer({ logLevel: 'warn' });
  app.post('/v1/auth/password', { schema: { body: PasswordSignInRequest, response: { 200: SessionGrant } } }, async (request) => {
    await verify(phc, request.body.password);
    return answer;
  });
  ready(await app.listen({ host: '127.0.0.1', port: 0 }));
} else {
  console.error('usage: verify-server.ts http|framework');
  process.exit(2);
}
