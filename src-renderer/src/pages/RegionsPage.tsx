import { useEffect, useMemo, useState } from 'react';
import { EXCHANGE_FACTS, ExchangeId } from '../../../src-shared/exchanges.ts';
import type { ProbeRun, RegionProbe } from '../../../src-shared/latency.ts';
import { formatMs, recommendClosestRegion, recommendRegion } from '../../../src-shared/recommend.ts';
import type { Region } from '../../../src-shared/regions.ts';
import { LatencyChart } from '../components/regions/LatencyChart.tsx';
import { RegionPicker } from '../components/regions/RegionPicker.tsx';
import { WorldStrip } from '../components/regions/WorldStrip.tsx';
import { Alert } from '../components/Alert.tsx';
import { formatWhen } from '../format.ts';
import { selectLastProbe, selectTrend, useRegionsStore } from '../stores/regions.ts';

const ms = (value: number | null | undefined) => (value == null ? '—' : formatMs(value));

function age(iso: string): string {
  const minutes = Math.round((Date.now() - Date.parse(iso)) / 60_000);
  if (minutes < 1) return 'just now';
  if (minutes < 90) return `${minutes} min ago`;
  return `${Math.round(minutes / 60)} h ago`;
}

function Sparkline({ values }: { values: number[] }) {
  if (values.length < 2) return <span className="muted">—</span>;
  const max = Math.max(...values);
  const min = Math.min(...values);
  const points = values.map((v, i) => `${(i / (values.length - 1)) * 80},${18 - ((v - min) / Math.max(1, max - min)) * 16}`).join(' ');
  return (
    <svg className="sparkline" viewBox="0 0 80 20" role="img" aria-label={`last ${values.length} medians, ${ms(min)} to ${ms(max)}`}>
      <polyline points={points} />
    </svg>
  );
}

function ProbeStatus({ lastProbe }: { lastProbe: ProbeRun | null }) {
  const probe = useRegionsStore((s) => s.probe);
  if (probe.state === 'running') {
    const done = probe.progress?.results.length ?? 0;
    const total = probe.progress?.total ?? 3;
    return (
      <p className="probe-status" aria-busy="true" data-testid="probe-status">
        <progress max={total} value={done} aria-label="Regions probed" /> Probing the regions… {done} of {total} answered
      </p>
    );
  }
  if (!lastProbe) return <p className="probe-status muted">Not probed yet.</p>;
  return (
    <p className="probe-status muted" data-testid="probe-status">
      Last probe <time dateTime={lastProbe.finishedAt}>{formatWhen(lastProbe.finishedAt)}</time> ({age(lastProbe.finishedAt)}), took {(lastProbe.durationMs / 1000).toFixed(1)} s.
    </p>
  );
}

function RegionRow({ region, result, trend }: { region: Region; result: RegionProbe | undefined; trend: number[] }) {
  const unreachable = result?.status === 'unreachable';
  return (
    <tr data-region={region.id} className={unreachable ? 'unreachable' : undefined}>
      <td>
        {region.name}
        {region.simulated ? (
          <span className="badge" title="Stood in for by the local stack: a delay proxy on this machine">
            simulated
          </span>
        ) : null}
        <div className="muted small">
          {region.city} · <code>{region.location}</code>
        </div>
      </td>
      {unreachable ? (
        <td colSpan={4} className="danger" title={result.error}>
          unreachable — {result.error}
        </td>
      ) : (
        <>
          <td data-testid="median">{ms(result?.medianMs)}</td>
          <td>{ms(result?.p90Ms)}</td>
          <td>{ms(result?.spreadMs)}</td>
          <td>{ms(result?.connectMs)}</td>
        </>
      )}
      <td>
        <Sparkline values={trend} />
      </td>
      {EXCHANGE_FACTS.map((exchange) => {
        const latency = region.exchangeLatencies.find((l) => l.exchange === exchange.id);
        return (
          <td key={exchange.id} title={latency?.measuredAt ? `${latency.simulated ? 'configured' : 'measured'} ${formatWhen(latency.measuredAt)}` : 'no figure yet'}>
            {ms(latency?.ms)}
          </td>
        );
      })}
    </tr>
  );
}

export function RegionsPage() {
  const catalog = useRegionsStore((s) => s.regions);
  const load = useRegionsStore((s) => s.load);
  const lastProbe = useRegionsStore(selectLastProbe);
  const history = useRegionsStore((s) => s.history);
  const probe = useRegionsStore((s) => s.probe);
  const fetchRegions = useRegionsStore((s) => s.fetchRegions);
  const open = useRegionsStore((s) => s.open);
  const probeAgain = useRegionsStore((s) => s.probeAgain);
  const connect = useRegionsStore((s) => s.connect);
  const [exchange, setExchange] = useState<ExchangeId>('bybit');

  useEffect(() => connect(), [connect]);
  useEffect(() => {
    void fetchRegions();
    void open();
  }, [fetchRegions, open]);

  // The catalog as the API publishes it now; before it loads, the one the last probe went by.
  const regions = catalog.length > 0 ? catalog : (lastProbe?.regions ?? []);
  const results = useMemo(() => lastProbe?.results ?? null, [lastProbe]);
  const closest = useMemo(() => recommendClosestRegion(regions, results), [regions, results]);
  const running = probe.state === 'running';

  return (
    <section aria-labelledby="regions-title">
      <header className="page-header">
        <h1 id="regions-title">Regions</h1>
        <button type="button" onClick={() => void probeAgain()} disabled={running}>
          {running ? 'Probing…' : 'Probe again'}
        </button>
      </header>
      <p className="lead">
        Each bot runs on its own instance in the region you pick. Your account, keys and settings stay in the EU whichever
        region a bot runs in. What matters for a bot is the region’s own latency to its exchange; your latency to a region
        only breaks ties, because the bot, not your computer, sends the orders.
      </p>
      <ProbeStatus lastProbe={lastProbe} />

      {load.state === 'loading' && regions.length === 0 ? (
        <p className="placeholder" aria-busy="true">
          Loading regions…
        </p>
      ) : null}
      <Alert message={load.state === 'error' ? load.message : null} onRetry={() => void fetchRegions()} />
      <Alert
        message={probe.state === 'error' ? `The probe did not finish: ${probe.message}` : null}
        onRetry={() => void probeAgain()}
        retryLabel="Probe again"
      />
      {load.state === 'ready' && regions.length === 0 ? (
        <p className="placeholder">This API publishes no regions yet, so bots cannot be deployed.</p>
      ) : null}

      {regions.length > 0 ? (
        <>
          <h2>Your latency to each region</h2>
          <LatencyChart regions={regions} results={results ?? []} />
          <table className="table" aria-label="Regions">
            <thead>
              <tr>
                <th scope="col">Region</th>
                <th scope="col">Median</th>
                <th scope="col">p90</th>
                <th scope="col">Spread</th>
                <th scope="col">Connect</th>
                <th scope="col">Trend</th>
                {EXCHANGE_FACTS.map((e) => (
                  <th scope="col" key={e.id} title={`The region's own round trip to ${e.apiHost}`}>
                    to {e.name.replace(' USD-M futures', '')}
                  </th>
                ))}
              </tr>
            </thead>
            <tbody>
              {regions.map((region) => (
                <RegionRow key={region.id} region={region} result={results?.find((r) => r.region === region.id)} trend={selectTrend(history, region.id)} />
              ))}
            </tbody>
          </table>
          <p className="muted small">
            Median, p90 and spread (p10 to p90) are your round trips to each region over a warm connection; connect is setting
            that connection up. The last columns are each region’s own round trip to the exchange’s API host.
          </p>

          <h2>Where regions and exchanges are</h2>
          <WorldStrip regions={regions} />

          <h2>Recommendations</h2>
          <ul className="recommendations" aria-label="Recommendations">
            <li data-testid="recommend-closest">
              <strong>Closest to you:</strong> {closest.reason}
            </li>
            {EXCHANGE_FACTS.map((e) => {
              const recommendation = recommendRegion({ exchange: e.id, regions, probes: results });
              return (
                <li key={e.id} data-exchange={e.id}>
                  <strong>Bots on {e.name}</strong>{' '}
                  <span className="muted">
                    {/* A provider that names the city already ("Europe (London/Frankfurt area)") is said alone. */}
                    {' '}— matching engine: {e.matchingEngine.provider.includes(e.matchingEngine.city) ? e.matchingEngine.provider : `${e.matchingEngine.city}, ${e.matchingEngine.provider}`}
                  </span>
                  : {recommendation.reason}
                  {recommendation.simulated ? <span className="badge">simulated</span> : null}
                </li>
              );
            })}
          </ul>

          <section className="panel" aria-labelledby="where-title">
            <h2 id="where-title">Where should a bot run?</h2>
            <p className="muted">
              Pick the exchange the bot will trade on. The region the figures favour is preselected; you can choose another.
              Nothing is deployed from here.
            </p>
            <label className="field">
              Exchange{' '}
              <select value={exchange} onChange={(event) => setExchange(ExchangeId.parse(event.target.value))}>
                {EXCHANGE_FACTS.map((e) => (
                  <option key={e.id} value={e.id}>
                    {e.name}
                  </option>
                ))}
              </select>
            </label>
            <RegionPicker exchange={exchange} regions={regions} probes={results} />
          </section>
        </>
      ) : null}
    </section>
  );
}
