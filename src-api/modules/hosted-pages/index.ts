import fastifyStatic from '@fastify/static';
import type { FastifyPluginAsync } from 'fastify';
import { contentSecurityPolicy, PAGE_SECURITY_HEADERS } from '../../../src-shared/csp.ts';
import { assetsDir, authorizePage } from './service.ts';

export interface HostedPagesOptions {
  /** The built renderer (out/renderer): its authorize.html is the hosted passkey page. */
  dir: string;
}

/**
 * The hosted pages: the renderer's passkey hand-off page at /desktop/authorize, run in the user's system
 * browser on our origin, talking only to this API (CSP connect-src 'self').
 */
export const hostedPagesModule: FastifyPluginAsync<HostedPagesOptions> = async (app, { dir }) => {
  const headers = { 'content-security-policy': contentSecurityPolicy(["'self'"]), ...PAGE_SECURITY_HEADERS };

  app.get('/desktop/authorize', async (_request, reply) =>
    reply.headers({ ...headers, 'cache-control': 'no-store' }).type('text/html; charset=utf-8').send(await authorizePage(dir)),
  );

  const assets = assetsDir(dir);
  if (assets) {
    await app.register(fastifyStatic, {
      root: assets,
      prefix: '/desktop/assets/',
      index: false,
      dotfiles: 'deny',
      setHeaders: (res) => {
        for (const [name, value] of Object.entries(headers)) res.header(name, value);
      },
    });
  }
};
