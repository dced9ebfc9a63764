// The API process: `node src-api/main.ts`. Configuration comes from PLUTARC_* environment variables.
import { buildApp } from './app.ts';
import { ConfigError, loadConfig } from './config.ts';
import { packageVersion, startOrExit, stopOnSignals } from '../src-server/process.ts';

const config = await startOrExit(() => loadConfig(process.env, packageVersion()), [ConfigError]);
const app = await buildApp(config);
const url = await app.listen({ host: config.host, port: config.port });
// The local stack's supervisor learns the address over IPC rather than guessing ports.
process.send?.({ type: 'ready', service: 'api', url });
stopOnSignals(() => app.close());
