// The per-host keeper process: `node src-orchestrator/local/keeper-main.ts`. It owns this machine's bot sandboxes,
// their egress proxies and cgroups, and serves the orchestrator's local driver on a unix socket, so bots outlive any
// orchestrator. Bots die with the keeper; on start it sweeps what a previous keeper left. SIGTERM destroys every
// bot it runs and checks each is gone. Configuration comes from PLUTARC_KEEPER_* environment variables.
import { tmpdir } from 'node:os';
import { isAbsolute, join } from 'node:path';
import { z } from 'zod';
import { ConfigError, LogLevel, parseEnv } from '../../src-server/env.ts';
import { createLogger } from '../../src-server/logger.ts';
import { announceReady, startOrExit, stopOnSignals } from '../../src-server/process.ts';
import { Keeper, RunRootError } from './keeper.ts';
import { defaultKeeperSocket, KeeperServer, KeeperSocketError } from './keeper-server.ts';

const AbsolutePath = z.string().refine(isAbsolute, 'expected an absolute path');

const KeeperEnv = z.object({
  /** The socket the drivers connect to; its folder is made 0700 (an existing one must already be closed to others). */
  PLUTARC_KEEPER_SOCKET: AbsolutePath.default(defaultKeeperSocket()),
  /** Where each instance's folder (egress socket, staging) lives. */
  PLUTARC_KEEPER_RUN_ROOT: AbsolutePath.default(join(tmpdir(), 'plutarc-instances')),
  PLUTARC_KEEPER_SANDBOX: z.enum(['auto', 'off']).default('auto'),
  PLUTARC_LOG_LEVEL: LogLevel.default('info'),
});

const env = await startOrExit(() => parseEnv('keeper', KeeperEnv, process.env), [ConfigError]);
const log = createLogger(env.PLUTARC_LOG_LEVEL, undefined, 'keeper');

const keeper = await startOrExit(() => Keeper.create({ runRoot: env.PLUTARC_KEEPER_RUN_ROOT, sandbox: env.PLUTARC_KEEPER_SANDBOX, log }), [RunRootError], 'plutarc keeper: ');
const server = await startOrExit(() => KeeperServer.start({ keeper, socketPath: env.PLUTARC_KEEPER_SOCKET, log }), [KeeperSocketError], 'plutarc keeper: ');
// Only once the socket is ours (no other keeper serves it) is what the run root holds a dead keeper's to clear.
await keeper.sweep();
const { sandbox, limits, network } = keeper.isolation;
log.info({ socket: server.socketPath, runRoot: env.PLUTARC_KEEPER_RUN_ROOT, sandbox, limits, network }, 'keeper listening');
announceReady({ type: 'ready', service: 'keeper', url: `unix:${server.socketPath}`, socketPath: server.socketPath, sandbox: sandbox.on });

// Bots first, while connected drivers still hear their exits; then the socket.
stopOnSignals(async () => {
  const reports = await keeper.shutdown();
  await server.close();
  for (const report of reports) if (!report.gone) log.error({ instanceId: report.instanceId, leftovers: report.leftovers }, 'an instance was not fully removed');
  log.info({ instances: reports.length }, 'keeper stopped: every bot destroyed');
});
