import { useEffect } from 'react';
import { useRegionsStore } from '../stores/regions.ts';

export function RegionsPage() {
  const regions = useRegionsStore((s) => s.regions);
  const load = useRegionsStore((s) => s.load);
  const fetchRegions = useRegionsStore((s) => s.fetchRegions);

  useEffect(() => {
    void fetchRegions();
  }, [fetchRegions]);

  return (
    <section aria-labelledby="regions-title">
      <header className="page-header">
        <h1 id="regions-title">Regions</h1>
        <button type="button" onClick={() => void fetchRegions()} disabled={load.state === 'loading'}>
          Refresh
        </button>
      </header>
      <p className="lead">
        Each bot runs on its own instance in the region you pick. Your account, keys and settings stay in the EU
        whichever region a bot runs in.
      </p>

      {load.state === 'loading' && regions.length === 0 ? (
        <p className="placeholder" aria-busy="true">
          Loading regions…
        </p>
      ) : null}

      {load.state === 'error' ? (
        <div className="error" role="alert">
          <p>{load.message}</p>
          <button type="button" onClick={() => void fetchRegions()}>
            Try again
          </button>
        </div>
      ) : null}

      {load.state === 'ready' && regions.length === 0 ? (
        <p className="placeholder">This API publishes no regions yet, so bots cannot be deployed.</p>
      ) : null}

      {regions.length > 0 ? (
        <table className="table" aria-label="Regions">
          <thead>
            <tr>
              <th scope="col">Region</th>
              <th scope="col">City</th>
              <th scope="col">Location</th>
              <th scope="col">Probe</th>
            </tr>
          </thead>
          <tbody>
            {regions.map((region) => (
              <tr key={region.id} data-region={region.id}>
                <td>
                  {region.name}
                  {region.simulated ? (
                    <span className="badge" title="Stood in for by the local stack">
                      simulated
                    </span>
                  ) : null}
                </td>
                <td>{region.city}</td>
                <td>
                  <code>{region.location}</code>
                </td>
                <td className="muted">
                  <code>{region.probeUrl}</code>
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      ) : null}
    </section>
  );
}
