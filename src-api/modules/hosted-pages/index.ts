import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import fastifyStatic from '@fastify/static';
import type { FastifyPluginAsync } from 'fastify';
import { contentSecurityPolicy, PAGE_SECURITY_HEADERS } from '../../../src-shared/csp.ts';
import { ProblemError } from '../../../src-server/problem.ts';

export interface HostedPagesOptions {
  /** The built renderer (out/renderer): its authorize.html is the hosted passkey page. */
  dir: string;
}

/**
 * The hosted pages: the renderer's passkey hand-off page at /desktop/authorize, run in the user's system
 * browser on our origin, talking only to this API (CSP connect-src 'self').
 */
export const hostedPagesModule: FastifyPluginAsync<HostedPagesOptions> = async (app, { dir }) => {
  const page = join(dir, 'authorize.html');
  const headers = { 'content-security-policy': contentSecurityPolicy(["'self'"]), ...PAGE_SECURITY_HEADERS };

  app.get('/desktop/authorize', async (_request, reply) => {
    if (!existsSync(page)) {
      throw new ProblemError(503, 'hosted_pages_missing', 'Pages not built', 'The hosted pages are not built on this server; run `npm run build`.');
    }
    return reply.headers({ ...headers, 'cache-control': 'no-store' }).type('text/html; charset=utf-8').send(await readFile(page));
  });

  if (existsSync(join(dir, 'assets'))) {
    await app.register(fastifyStatic, {
      root: join(dir, 'assets'),
      prefix: '/desktop/assets/',
      index: false,
      dotfiles: 'deny',
      setHeaders: (res) => {
        for (const [name, value] of Object.entries(headers)) res.header(name, value);
      },
    });
  }
};
