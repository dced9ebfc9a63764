import { join } from 'node:path';
import { startBrowserHost, type BrowserHost } from '../../src-main/browser-host/server.ts';
import { createMainServices, type MainServices } from '../../src-main/services/main-services.ts';
import { ROOT } from './build.ts';

/** The browser host with the real main services, talking to the API at `apiUrl`. */
export async function startTestHost(apiUrl: string, secret?: string): Promise<{ host: BrowserHost; services: MainServices }> {
  const services = createMainServices({ apiUrl, host: 'browser', version: '0.0.0-test' });
  const host = await startBrowserHost({
    services,
    rendererDir: join(ROOT, 'out/renderer'),
    bridgeScript: join(ROOT, 'out/bridge/bridge.js'),
    ...(secret ? { secret } : {}),
  });
  return { host, services };
}
