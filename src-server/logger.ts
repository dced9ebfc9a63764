import type { FastifyRequest } from 'fastify';
import pino, { type DestinationStream, type Logger } from 'pino';

/** Names whose values are secrets wherever they appear in a log object, in any plutarc server. */
const SECRET_NAMES = [
  'password', 'newPassword', 'currentPassword', 'secret', 'apiSecret', 'passphrase', 'token', 'sessionToken',
  'serviceToken', 'code', 'verifier', 'codeVerifier', 'jwe', 'credential', 'privateKeyJwk', 'wrappedPrivateKey', 'masterKey', 'd',
];

const REDACT_PATHS = [
  'req.headers.authorization',
  'req.headers.cookie',
  'req.headers["x-plutarc-instance-credential"]',
  'res.headers["set-cookie"]',
  ...SECRET_NAMES.flatMap((name) => [name, `*.${name}`, `*.*.${name}`]),
];

/** Path segments that are bearer secrets themselves: a hand-off id lets its holder run the hand-off. */
const SECRET_SEGMENTS = /(\/handoffs\/)[^/?]+/g;

/** Logs the path and the names of query parameters, never their values (tokens travel in some). */
export function describeUrl(url: string): string {
  const [rawPath, query] = url.split('?', 2);
  const path = rawPath?.replace(SECRET_SEGMENTS, '$1…');
  if (!query) return path ?? url;
  const names = [...new URLSearchParams(query).keys()];
  return `${path}?${names.map((n) => `${n}=…`).join('&')}`;
}

export function createLogger(level: string, destination?: DestinationStream, service?: string): Logger {
  return pino(
    {
      level,
      ...(service ? { base: { service, pid: process.pid } } : {}),
      redact: { paths: REDACT_PATHS, censor: '[redacted]' },
      serializers: {
        // Only these three fields of anything logged as `req`: headers and bodies never reach a log line.
        req: (req: Partial<Pick<FastifyRequest, 'method' | 'url' | 'ip'>>) => ({
          method: typeof req.method === 'string' ? req.method : undefined,
          url: typeof req.url === 'string' ? describeUrl(req.url) : undefined,
          remoteAddress: typeof req.ip === 'string' ? req.ip : undefined,
        }),
        err: pino.stdSerializers.err,
      },
    },
    destination,
  );
}
