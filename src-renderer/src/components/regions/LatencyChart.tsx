import type { RegionProbe } from '../../../../src-shared/latency.ts';
import { formatMs } from '../../../../src-shared/recommend.ts';
import type { Region } from '../../../../src-shared/regions.ts';

const ROW = 34;
const LABEL = 130;
const WIDTH = 640;
const RIGHT = 170;

/** Median round trip per region as a bar, p90 as a whisker; a region that did not answer says so. */
export function LatencyChart({ regions, results }: { regions: readonly Region[]; results: readonly RegionProbe[] }) {
  const scaleMax = Math.max(1, ...results.map((r) => r.p90Ms ?? r.medianMs ?? 0));
  const plot = WIDTH - LABEL - RIGHT;
  const x = (ms: number) => LABEL + (ms / scaleMax) * plot;
  const height = regions.length * ROW + 8;
  return (
    <svg
      className="latency-chart"
      viewBox={`0 0 ${WIDTH} ${height}`}
      role="img"
      aria-label="Your round trip to each region: median as a bar, 90th percentile as a whisker"
    >
      {regions.map((region, i) => {
        const result = results.find((r) => r.region === region.id);
        const y = 4 + i * ROW;
        const mid = y + ROW / 2;
        return (
          <g key={region.id} data-region={region.id}>
            <text x={LABEL - 10} y={mid + 4} textAnchor="end" className="chart-label">
              {region.name}
            </text>
            {result?.status === 'ok' && result.medianMs !== null ? (
              <>
                <rect x={LABEL} y={y + 7} width={Math.max(1, x(result.medianMs) - LABEL)} height={ROW - 14} rx={3} className="chart-bar" />
                {result.p90Ms !== null ? (
                  <g className="chart-whisker">
                    <line x1={x(result.medianMs)} x2={x(result.p90Ms)} y1={mid} y2={mid} />
                    <line x1={x(result.p90Ms)} x2={x(result.p90Ms)} y1={mid - 6} y2={mid + 6} />
                  </g>
                ) : null}
                <text x={x(result.p90Ms ?? result.medianMs) + 8} y={mid + 4} className="chart-value">
                  {formatMs(result.medianMs)}
                  {result.p90Ms !== null ? ` · p90 ${formatMs(result.p90Ms)}` : ''}
                </text>
              </>
            ) : (
              <text x={LABEL} y={mid + 4} className="chart-unreachable">
                {result ? 'unreachable' : 'not probed'}
              </text>
            )}
          </g>
        );
      })}
    </svg>
  );
}
