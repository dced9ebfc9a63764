// The key broker process: `node src-keybroker/main.ts`. Configuration comes from PLUTARC_* environment
// variables; key material only from files (see config.ts).
import { packageVersion, startOrExit, stopOnSignals } from '../src-server/process.ts';
import { buildBroker } from './app.ts';
import { ConfigError, loadConfig } from './config.ts';
import { KeyFileError } from './key-files.ts';

const config = await startOrExit(() => loadConfig(process.env, packageVersion()), [ConfigError]);
const app = await startOrExit(() => buildBroker(config), [KeyFileError], 'plutarc key broker: ');
const url = await app.listen({ host: config.host, port: config.port });
// The local stack's supervisor learns the address over IPC, and where to find the files the API
// (service token), the bot orchestrator (its own token) and the desktop app (identity public key) read.
// Paths only, never contents.
process.send?.({
  type: 'ready',
  service: 'keybroker',
  url,
  identityPublicKeyFile: config.identityPublicKeyFile,
  serviceTokenFile: config.serviceTokenFile,
  orchestratorTokenFile: config.orchestratorTokenFile,
});

stopOnSignals(() => app.close());
