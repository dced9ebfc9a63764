// A region's edge (region mode): `node src-api/region-main.ts` with PLUTARC_REGION_ID=eu|us|sg. It answers
// the desktop app's latency probe and publishes its own measured round trips to the exchanges.
import { buildRegionEdge, ConfigError, loadRegionEdgeConfig } from './modules/regions/edge.ts';
import { startOrExit, stopOnSignals } from '../src-server/process.ts';

const config = await startOrExit(() => loadRegionEdgeConfig(process.env), [ConfigError]);
const edge = await buildRegionEdge(config);
const url = await edge.listen({ host: config.host, port: config.port });
process.send?.({ type: 'ready', service: `region-${config.region}`, url });
stopOnSignals(() => edge.close());
