// The browser host process: the app's main services in plain Node, for machines where Electron cannot
// start. `npm start` runs it; it reports its launch URL to the supervisor over IPC.
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { z } from 'zod';
import { ApiUrl } from '../services/api-url.ts';
import { createMainServices } from '../services/main-services.ts';
import { ExchangeKeysEnv, exchangeKeysSettings } from '../services/exchange-keys/local-mode.ts';
import { startBrowserHost } from './server.ts';

const Env = z.object({
  PLUTARC_API_URL: ApiUrl,
  PLUTARC_HOST_PORT: z.coerce.number().int().min(0).max(65535).default(0),
  /** The app's own data folder (its local cache); the local stack passes `<dataDir>/app`. */
  PLUTARC_APP_DATA_DIR: z.string().min(1).optional(),
}).extend(ExchangeKeysEnv.shape);

const env = Env.safeParse(process.env);
if (!env.success) {
  console.error(`browser host: ${env.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`);
  process.exit(78);
}

const root = new URL('../../', import.meta.url);
const { version } = JSON.parse(readFileSync(new URL('package.json', root), 'utf8')) as { version: string };
const services = createMainServices({
  apiUrl: env.data.PLUTARC_API_URL,
  host: 'browser',
  version,
  ...(env.data.PLUTARC_APP_DATA_DIR ? { dataDir: env.data.PLUTARC_APP_DATA_DIR } : {}),
  // No OS keyring, no way to open a browser tab itself, no OS notifications (createMainServices' defaults):
  // the session token stays in memory, the page shows the passkey link, and notices go to the page (app.onNotice).
  log: (line) => console.error(line),
  exchangeKeys: exchangeKeysSettings(env.data),
});
services.start();

const host = await startBrowserHost({
  services,
  rendererDir: fileURLToPath(new URL('out/renderer', root)),
  bridgeScript: fileURLToPath(new URL('out/bridge/bridge.js', root)),
  port: env.data.PLUTARC_HOST_PORT,
  log: (message) => console.error(message),
});
process.send?.({ type: 'ready', service: 'app', url: host.launchUrl, openUrl: host.mintOpenUrl() });

let closing = false;
const stop = () => {
  if (closing) return;
  closing = true;
  // The API is still up: the stack stops the app first, so a session kept in memory can be signed out.
  void services
    .stop()
    .then(() => host.close())
    .then(() => process.exit(0));
};
process.on('SIGINT', stop);
process.on('SIGTERM', stop);
// Started by the stack's supervisor: if it goes away, so do we.
process.on('disconnect', stop);
