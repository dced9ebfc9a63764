// The orchestrator process: `node src-orchestrator/main.ts`. Converges the bots' desired state, read from the API's
// internal routes, with what its driver runs. Configuration from PLUTARC_* variables (config.ts); tokens only from files.
import { fileURLToPath } from 'node:url';
import { systemClock } from '../src-server/clock.ts';
import { createLogger } from '../src-server/logger.ts';
import { announceReady, startOrExit, stopOnSignals } from '../src-server/process.ts';
import { OrchestratorApiClient, watchDesiredState } from './api-client.ts';
import { BrokerCredentialMinter } from './broker-minter.ts';
import { ConfigError, loadConfig, readTokenFile, TokenFileError } from './config.ts';
import { DriverUnavailableError, openDriver } from './drivers.ts';
import { BotBundleMissingError, botPlanner, requireBotBundle } from './planner.ts';
import { isolationRecord, ReconcileLoop } from './reconcile-loop.ts';

const appRoot = fileURLToPath(new URL('../', import.meta.url));

const config = await startOrExit(() => loadConfig(process.env), [ConfigError]);
// Local bots run only from the bundle (one folder, heap-capped): falling back to the sources would bind all of
// node_modules into every sandbox and run a bigger, different program than the one measured and shipped, so it is
// refused. The other drivers run the bot image, which carries the same bundle.
if (config.driver.name === 'local') await startOrExit(() => requireBotBundle(appRoot), [BotBundleMissingError], 'plutarc orchestrator: ');
const log = createLogger(config.logLevel, undefined, 'orchestrator');
const tokens = await startOrExit(
  () => ({
    api: readTokenFile(config.apiTokenFile, 'The orchestrator’s API token'),
    broker: readTokenFile(config.brokerTokenFile, 'The key broker’s orchestrator token'),
  }),
  [TokenFileError],
  'plutarc orchestrator: ',
);

// Both errors' messages name the orchestrator and the driver already.
const driver = await startOrExit(() => openDriver(config, { appRoot, env: process.env, log }), [DriverUnavailableError, ConfigError]);
const api = new OrchestratorApiClient({ apiUrl: config.apiUrl, token: tokens.api, holder: config.id });
const loop = new ReconcileLoop({
  orchestratorId: config.id,
  driver,
  source: api,
  leases: api,
  issuer: api,
  minter: new BrokerCredentialMinter({ brokerUrl: config.brokerUrl, orchestratorToken: tokens.broker }),
  plan: botPlanner({ executable: process.execPath, limits: config.limits, reach: config.botReach }),
  handOff: config.botReach,
  clock: systemClock,
  policy: config.policy,
  leaseTtlMs: config.leaseTtlMs,
  intervalMs: config.intervalMs,
  log,
});
// What the bots print (each scrubs its own secrets): in the orchestrator's log, for whoever runs it.
driver.watch((event) => {
  if (event.kind === 'output') log.info({ botId: event.botId, instanceId: event.instanceId, stream: event.stream, line: event.line }, 'bot output');
});
loop.start();
const watch = watchDesiredState(api, () => loop.wake(), { waitMs: config.waitMs, log });

const isolation = isolationRecord(driver.isolation);
log.info({ id: config.id, driver: driver.name, api: config.apiUrl, isolation }, 'orchestrator running');
for (const warning of isolation.warnings) log.warn({ id: config.id }, `bots run with less isolation: ${warning}`);
// The local stack's supervisor waits for this; the orchestrator listens on nothing, so its "address" is the API it serves.
announceReady({ type: 'ready', service: 'orchestrator', url: config.apiUrl, orchestratorId: config.id });

stopOnSignals(async () => {
  await watch.stop();
  // Gives up this orchestrator's leases, so another takes its bots over without waiting for them to expire.
  await loop.stop().catch((error: unknown) => log.warn({ err: error instanceof Error ? error.message : String(error) }, 'could not give up every lease'));
  // The bots stay with the keeper or the engine; the next orchestrator adopts them.
  await driver.close();
});
