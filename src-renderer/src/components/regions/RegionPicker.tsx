import { useEffect, useMemo, useState } from 'react';
import { exchangeFacts, type ExchangeId } from '../../../../src-shared/exchanges.ts';
import type { RegionProbe } from '../../../../src-shared/latency.ts';
import { formatMs, recommendRegion } from '../../../../src-shared/recommend.ts';
import type { Region, RegionId } from '../../../../src-shared/regions.ts';

interface RegionPickerProps {
  exchange: ExchangeId;
  regions: readonly Region[];
  /** The user's last probe, or null before there is one. */
  probes: readonly RegionProbe[] | null;
  /** Hears the region selected now: the recommended one at first (when there is one), then each pick. */
  onSelect?: (region: RegionId) => void;
  disabled?: boolean;
}

/**
 * Where a bot for `exchange` should run: every region with its own latency to the exchange and the
 * user's latency to it, the recommended one preselected with the reason. A different pick sticks
 * until the exchange changes.
 */
export function RegionPicker({ exchange, regions, probes, onSelect, disabled = false }: RegionPickerProps) {
  const recommendation = useMemo(() => recommendRegion({ exchange, regions, probes }), [exchange, regions, probes]);
  const [picked, setPicked] = useState<{ exchange: ExchangeId; region: RegionId } | null>(null);
  const selected = picked?.exchange === exchange ? picked.region : recommendation.region;
  const facts = exchangeFacts(exchange);
  useEffect(() => {
    if (selected) onSelect?.(selected);
  }, [onSelect, selected]);

  return (
    <fieldset className="region-picker" disabled={disabled}>
      <legend>Region for a bot on {facts.name}</legend>
      {regions.map((region) => {
        const candidate = recommendation.candidates.find((c) => c.region === region.id);
        const recommended = region.id === recommendation.region;
        return (
          <label key={region.id} className={`picker-option${region.id === selected ? ' selected' : ''}`} data-region={region.id}>
            <input
              type="radio"
              name={`region-for-${exchange}`}
              value={region.id}
              checked={region.id === selected}
              onChange={() => setPicked({ exchange, region: region.id })}
            />
            <span className="picker-name">
              {region.name}
              {recommended ? <span className="badge badge-ok">recommended</span> : null}
            </span>
            <span className="muted">
              {candidate?.exchangeMs != null ? `${formatMs(candidate.exchangeMs)} to ${facts.name}` : `no figure for ${facts.name} yet`}
              {' · '}
              {candidate?.reachable === false
                ? 'did not answer your probe'
                : candidate?.userMs != null
                  ? `${formatMs(candidate.userMs)} from you`
                  : 'not probed from here yet'}
            </span>
          </label>
        );
      })}
      <p className="picker-reason" data-testid="picker-reason">
        {recommendation.reason}
        {recommendation.simulated ? (
          <span className="badge" title="The local stack stands in for the regions; these figures are configured, not measured">
            simulated
          </span>
        ) : null}
      </p>
    </fieldset>
  );
}
