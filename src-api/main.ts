// The API process: `node src-api/main.ts`. Configuration comes from PLUTARC_* environment variables.
import { readFileSync } from 'node:fs';
import { buildApp } from './app.ts';
import { ConfigError, loadConfig } from './config.ts';

const { version } = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string };

let config;
try {
  config = loadConfig(process.env, version);
} catch (error) {
  if (error instanceof ConfigError) {
    console.error(error.message);
    process.exit(78);
  }
  throw error;
}

const app = await buildApp(config);
const url = await app.listen({ host: config.host, port: config.port });
// The local stack's supervisor learns the address over IPC rather than guessing ports.
process.send?.({ type: 'ready', service: 'api', url });

let closing = false;
const stop = () => {
  if (closing) return;
  closing = true;
  void app.close().then(() => process.exit(0));
};
process.on('SIGINT', stop);
process.on('SIGTERM', stop);
// Started by the stack's supervisor: if it goes away, so do we.
process.on('disconnect', stop);
