import { readFile } from 'node:fs/promises';
import { protocol } from 'electron';
import { APP_HOST, APP_SCHEME } from '../services/app-identity.ts';
import { contentSecurityPolicy, PAGE_SECURITY_HEADERS } from '../../src-shared/csp.ts';
import { contentTypeOf, resolveInside } from '../services/static-path.ts';

/** Serves the built renderer at app://plutarc/ with our CSP; call after `app` is ready. */
export function serveRenderer(rendererDir: string): void {
  protocol.handle(APP_SCHEME, async (request) => {
    const url = new URL(request.url);
    const file = url.host === APP_HOST ? resolveInside(rendererDir, url.pathname === '/' ? '/index.html' : url.pathname) : null;
    if (!file) return new Response('Not found', { status: 404 });
    try {
      const body = await readFile(file);
      return new Response(body, {
        headers: {
          'content-type': contentTypeOf(file),
          'content-security-policy': contentSecurityPolicy(),
          ...PAGE_SECURITY_HEADERS,
        },
      });
    } catch {
      return new Response('Not found', { status: 404 });
    }
  });
}
