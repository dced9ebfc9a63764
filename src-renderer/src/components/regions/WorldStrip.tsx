import { EXCHANGE_FACTS } from '../../../../src-shared/exchanges.ts';
import { REGION_LONGITUDE, type Region } from '../../../../src-shared/regions.ts';

const WIDTH = 640;
const HEIGHT = 132;
const REGIONS_Y = 40;
const EXCHANGES_Y = 76;
/** Longitudes shown: from the US east coast to Tokyo, where everything here is. */
const WEST = -100;
const EAST = 160;
const x = (longitude: number) => 30 + ((longitude - WEST) / (EAST - WEST)) * (WIDTH - 60);

/** West to east: the regions on the upper line, the exchanges' matching engines on the lower one. */
export function WorldStrip({ regions }: { regions: readonly Region[] }) {
  return (
    <svg className="world-strip" viewBox={`0 0 ${WIDTH} ${HEIGHT}`} role="img" aria-label="Where the regions and the exchanges' matching engines are">
      <line x1={10} x2={WIDTH - 10} y1={REGIONS_Y} y2={REGIONS_Y} className="strip-line" />
      <line x1={10} x2={WIDTH - 10} y1={EXCHANGES_Y} y2={EXCHANGES_Y} className="strip-line" />
      <text x={WIDTH - 10} y={REGIONS_Y - 8} textAnchor="end" className="strip-legend">
        regions
      </text>
      <text x={WIDTH - 10} y={EXCHANGES_Y - 8} textAnchor="end" className="strip-legend">
        matching engines
      </text>
      {regions.map((region) => (
        <g key={region.id} className="strip-region">
          <circle cx={x(REGION_LONGITUDE[region.id])} cy={REGIONS_Y} r={6} />
          <text x={x(REGION_LONGITUDE[region.id])} y={REGIONS_Y - 14} textAnchor="middle">
            {region.name}
          </text>
        </g>
      ))}
      {EXCHANGE_FACTS.map((exchange, i) => (
        <g key={exchange.id} className="strip-exchange">
          <rect
            x={x(exchange.longitude) - 5}
            y={EXCHANGES_Y - 5}
            width={10}
            height={10}
            transform={`rotate(45 ${x(exchange.longitude)} ${EXCHANGES_Y})`}
          />
          <text x={x(exchange.longitude)} y={EXCHANGES_Y + 24 + (i % 2) * 16} textAnchor="middle">
            {exchange.name.replace(' USD-M futures', '')} · {exchange.matchingEngine.city}
          </text>
        </g>
      ))}
    </svg>
  );
}
