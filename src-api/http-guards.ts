import type { FastifyInstance } from 'fastify';
import { ProblemError } from '../src-server/problem.ts';

const LOOPBACK_NAMES = new Set(['127.0.0.1', 'localhost', '[::1]']);

/** True when the API listens only where this machine can reach it (the local stack). */
export const isLoopbackHost = (host: string): boolean => LOOPBACK_NAMES.has(host) || host === '::1' || /^127(\.\d{1,3}){3}$/.test(host);

const hostnameOf = (hostHeader: string | undefined): string | undefined => {
  if (!hostHeader) return undefined;
  try {
    return new URL(`http://${hostHeader}`).hostname;
  } catch {
    return undefined;
  }
};

/**
 * Answers carry `X-Content-Type-Options: nosniff`, and in local mode a request must name this machine in its
 * Host: a web page whose own name was rebound to 127.0.0.1 (DNS rebinding) reaches the port but not the API.
 * Only the name is compared: the local stack's delay proxies forward the same name on other ports.
 */
export function guardHttp(app: FastifyInstance, options: { listenHost: string; ownUrls: (string | undefined)[] }): void {
  app.addHook('onSend', async (_request, reply) => {
    reply.header('x-content-type-options', 'nosniff');
  });
  if (!isLoopbackHost(options.listenHost)) return;
  const ours = new Set(LOOPBACK_NAMES);
  for (const url of options.ownUrls) if (url) ours.add(new URL(url).hostname);
  app.addHook('onRequest', async (request) => {
    const name = hostnameOf(request.headers.host);
    if (name === undefined || !ours.has(name)) {
      throw new ProblemError(421, 'unknown_host', 'Not this server', 'This API answers only requests addressed to this machine by its own name.');
    }
  });
}
