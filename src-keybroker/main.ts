// The key broker process: `node src-keybroker/main.ts`. Configuration comes from PLUTARC_* environment
// variables; key material only from files (see config.ts).
import { readFileSync } from 'node:fs';
import { buildBroker } from './app.ts';
import { ConfigError, loadConfig } from './config.ts';
import { KeyFileError } from './key-files.ts';

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

let app;
try {
  app = await buildBroker(config);
} catch (error) {
  if (error instanceof KeyFileError) {
    console.error(`plutarc key broker: ${error.message}`);
    process.exit(78);
  }
  throw error;
}
const url = await app.listen({ host: config.host, port: config.port });
// The local stack's supervisor learns the address over IPC, and where to find the files the API
// (service token) and the desktop app (identity public key) read. Paths only, never contents.
process.send?.({
  type: 'ready',
  service: 'keybroker',
  url,
  identityPublicKeyFile: config.identityPublicKeyFile,
  serviceTokenFile: config.serviceTokenFile,
});

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
