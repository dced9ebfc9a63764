// The simulator process: `node src-exchange-sim/main.ts`. Configuration comes from PLUTARC_SIM_*
// environment variables; keys are made afterwards through the admin listener (POST /_sim/keys).
import type { FastifyBaseLogger } from 'fastify';
import { z } from 'zod';
import { ConfigError, LogLevel, parseEnv } from '../src-server/env.ts';
import { createLogger } from '../src-server/logger.ts';
import { startOrExit, stopOnSignals } from '../src-server/process.ts';
import { startExchangeSim, type ExchangeSimReady } from './server.ts';

const Port = z.coerce.number().int().min(0).max(65535).default(0);

const SimEnv = z.object({
  PLUTARC_SIM_HOST: z.string().min(1).default('127.0.0.1'),
  PLUTARC_SIM_ADMIN_PORT: Port,
  PLUTARC_SIM_BINANCEUSDM_PORT: Port,
  PLUTARC_SIM_BYBIT_PORT: Port,
  PLUTARC_SIM_KRAKENFUTURES_PORT: Port,
  PLUTARC_LOG_LEVEL: LogLevel.default('info'),
});

const env = await startOrExit(() => parseEnv('exchange simulator', SimEnv, process.env), [ConfigError]);

// Query strings carry signatures and headers carry keys: the server logger keeps neither.
const logger = createLogger(env.PLUTARC_LOG_LEVEL, undefined, 'exchange-sim');

const sim = await startExchangeSim({
  host: env.PLUTARC_SIM_HOST,
  ports: {
    admin: env.PLUTARC_SIM_ADMIN_PORT,
    binanceusdm: env.PLUTARC_SIM_BINANCEUSDM_PORT,
    bybit: env.PLUTARC_SIM_BYBIT_PORT,
    krakenfutures: env.PLUTARC_SIM_KRAKENFUTURES_PORT,
  },
  logger: logger as FastifyBaseLogger,
});
logger.info({ urls: sim.urls }, 'exchange simulator listening');
const ready: ExchangeSimReady = { type: 'ready', service: 'exchange-sim', url: sim.urls.admin, urls: sim.urls };
process.send?.(ready);

stopOnSignals(() => sim.close());
