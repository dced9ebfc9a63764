import fastifyStatic from '@fastify/static';
import type { FastifyPluginAsync } from 'fastify';
import { contentSecurityPolicy, PAGE_SECURITY_HEADERS } from '../../../src-shared/csp.ts';
import { assetsDir, authorizePage, privacyPage } from './service.ts';

export interface HostedPagesOptions {
  /** The built renderer (out/renderer): its authorize.html is the hosted passkey page. */
  dir: string;
}

/**
 * The hosted pages: the renderer's passkey hand-off page at /desktop/authorize, run in the user's system
 * browser on our origin, talking only to this API (CSP connect-src 'self'); and the Privacy page at /privacy.
 */
export const hostedPagesModule: FastifyPluginAsync<HostedPagesOptions> = async (app, { dir }) => {
  const headers = { 'content-security-policy': contentSecurityPolicy(["'self'"]), ...PAGE_SECURITY_HEADERS };

  app.get('/desktop/authorize', async (_request, reply) =>
    reply.headers({ ...headers, 'cache-control': 'no-store' }).type('text/html; charset=utf-8').send(await authorizePage(dir)),
  );

  // The Privacy page, for anyone: what plutarc keeps, where, for how long, and what export and deletion do.
  const privacy = privacyPage();
  app.get('/privacy', async (_request, reply) => reply.headers({ ...headers, 'cache-control': 'public, max-age=300' }).type('text/html; charset=utf-8').send(privacy));

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
