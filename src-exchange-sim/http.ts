// One Fastify listener per simulated exchange, set up so request checks see the request exactly as it
// arrived: the undecoded path and query from the request line, and the body as bytes.
import Fastify, { type FastifyBaseLogger, type FastifyInstance, type FastifyRequest } from 'fastify';
import { normalizePeer } from './keys.ts';

/** What a request check reads. Nothing here is re-encoded from parsed values. */
export interface WireRequest {
  method: string;
  /** Path as sent, still percent-encoded. */
  path: string;
  /** Everything after the first `?`, as sent ('' when there is none). */
  query: string;
  body: Buffer;
  /** The TCP peer, never a forwarded-for header. */
  peer: string;
  header(name: string): string | undefined;
}

export function wireRequest(request: FastifyRequest): WireRequest {
  const url = request.raw.url ?? '/';
  const mark = url.indexOf('?');
  return {
    method: request.method,
    path: mark < 0 ? url : url.slice(0, mark),
    query: mark < 0 ? '' : url.slice(mark + 1),
    body: Buffer.isBuffer(request.body) ? request.body : Buffer.alloc(0),
    peer: normalizePeer(request.socket.remoteAddress ?? ''),
    header(name) {
      const value = request.headers[name.toLowerCase()];
      return Array.isArray(value) ? value[0] : value;
    },
  };
}

export function createListener(logger: FastifyBaseLogger | undefined): FastifyInstance {
  const app = logger
    ? Fastify({ loggerInstance: logger, trustProxy: false, bodyLimit: 1024 * 1024 })
    : Fastify({ logger: false, trustProxy: false, bodyLimit: 1024 * 1024 });
  // Every body stays raw bytes, whatever its declared type: signatures are checked over those bytes.
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('*', { parseAs: 'buffer' }, (_request, body, done) => done(null, body));
  return app;
}

