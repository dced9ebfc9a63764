import { z } from 'zod';
import { exchangeFacts, type ExchangeId } from './exchanges.ts';
import type { RegionProbe } from './latency.ts';
import { RegionId, type Region } from './regions.ts';

/** Regions whose latency to the exchange differs by no more than this are a tie, broken by the user's own latency. */
const TIE_MARGIN_MS = 5;

export const Candidate = z.object({
  region: RegionId,
  /** The region's own round trip to the exchange's API host, as it publishes it. */
  exchangeMs: z.number().nullable(),
  /** The user's median round trip to the region, from the last probe. */
  userMs: z.number().nullable(),
  /** False when the region did not answer the user's probe; null when there is no probe. */
  reachable: z.boolean().nullable(),
});
export type Candidate = z.infer<typeof Candidate>;

export const Recommendation = z.object({
  region: RegionId.nullable(),
  /** Why, in words a user can check against the numbers shown beside it. */
  reason: z.string(),
  /** What decided: the exchange latency, a tie broken by the user's latency, the user's latency alone, or nothing. */
  basis: z.enum(['exchange', 'tie-by-user', 'user', 'none']),
  /** True when a figure behind the choice is simulated (the local stack). */
  simulated: z.boolean(),
  candidates: z.array(Candidate),
});
export type Recommendation = z.infer<typeof Recommendation>;

export interface RecommendInput {
  exchange: ExchangeId;
  regions: readonly Region[];
  /** The user's last probe of the regions, or null when there is none. */
  probes: readonly RegionProbe[] | null;
  tieMarginMs?: number;
}

const possessive = (name: string): string => (name.endsWith('s') ? `${name}'` : `${name}'s`);

export const formatMs = (ms: number): string => (ms < 1 ? '<1 ms' : `${Math.round(ms)} ms`);

const listNames = (names: string[]): string =>
  names.length <= 1 ? (names[0] ?? '') : `${names.slice(0, -1).join(', ')} and ${names[names.length - 1]}`;

function candidatesOf(regions: readonly Region[], probes: readonly RegionProbe[] | null, exchange: ExchangeId | null): Candidate[] {
  return regions.map((region) => {
    const probe = probes?.find((p) => p.region === region.id);
    const latency = exchange ? region.exchangeLatencies.find((l) => l.exchange === exchange) : undefined;
    return {
      region: region.id,
      exchangeMs: latency?.ms ?? null,
      userMs: probe?.status === 'ok' ? probe.medianMs : null,
      reachable: probe ? probe.status === 'ok' : null,
    };
  });
}

/** Lowest first; a missing figure sorts last; equal figures keep catalog order. */
const byMs = (pick: (c: Candidate) => number | null) => (a: Candidate, b: Candidate) =>
  (pick(a) ?? Number.POSITIVE_INFINITY) - (pick(b) ?? Number.POSITIVE_INFINITY);

/**
 * Where a bot for `exchange` should run: the region with the lowest latency from the region to the
 * exchange's API host. Regions within `tieMarginMs` of the best are a tie, broken by the user's own
 * latency to them. Regions that did not answer the user's probe are left out. Pure: same input, same answer.
 */
export function recommendRegion(input: RecommendInput): Recommendation {
  const margin = input.tieMarginMs ?? TIE_MARGIN_MS;
  const exchange = exchangeFacts(input.exchange);
  const nameOf = (id: RegionId) => input.regions.find((r) => r.id === id)?.name ?? id;
  const simulatedFor = (id: RegionId) =>
    Boolean(input.regions.find((r) => r.id === id)?.exchangeLatencies.find((l) => l.exchange === input.exchange)?.simulated);
  const candidates = candidatesOf(input.regions, input.probes, input.exchange);
  const eligible = candidates.filter((c) => c.reachable !== false);
  const unreachable = candidates.filter((c) => c.reachable === false).map((c) => nameOf(c.region));
  const leftOut =
    unreachable.length === 0
      ? ''
      : ` ${listNames(unreachable)} did not answer your probe, so ${unreachable.length === 1 ? 'it is' : 'they are'} left out.`;

  if (eligible.length === 0) {
    return {
      region: null,
      reason: 'No region answered your probe. Check your connection, then probe again.',
      basis: 'none',
      simulated: false,
      candidates,
    };
  }

  const measured = eligible.filter((c) => c.exchangeMs !== null).sort(byMs((c) => c.exchangeMs));
  if (measured.length === 0) {
    const closest = eligible.filter((c) => c.userMs !== null).sort(byMs((c) => c.userMs))[0];
    const noFigures = `No region has published its latency to ${exchange.name} yet`;
    if (!closest || closest.userMs === null) {
      return { region: null, reason: `${noFigures}, and there is no probe of yours to go by.${leftOut}`, basis: 'none', simulated: false, candidates };
    }
    return {
      region: closest.region,
      reason: `${noFigures}; ${nameOf(closest.region)} is closest to you (${formatMs(closest.userMs)}).${leftOut}`,
      basis: 'user',
      simulated: false,
      candidates,
    };
  }

  const fastest = measured[0]!;
  const tied = measured.filter((c) => c.exchangeMs! - fastest.exchangeMs! <= margin);
  const tieBreakable = tied.length > 1 && tied.some((c) => c.userMs !== null);
  const chosen = tieBreakable ? [...tied].sort(byMs((c) => c.userMs))[0]! : fastest;
  const where = `${possessive(exchange.name)} API (matching engine in ${exchange.matchingEngine.city})`;

  if (tieBreakable) {
    const others = tied.filter((c) => c !== chosen);
    const figures = tied.map((c) => formatMs(c.exchangeMs!)).join(' vs ');
    const yours = [chosen, ...others].map((c) => (c.userMs === null ? 'not probed' : formatMs(c.userMs))).join(' vs ');
    return {
      region: chosen.region,
      reason:
        `${listNames(tied.map((c) => nameOf(c.region)))} are within ${margin} ms of each other to ${where} (${figures}); ` +
        `${nameOf(chosen.region)} is closer to you (${yours}).${leftOut}`,
      basis: 'tie-by-user',
      simulated: tied.some((c) => simulatedFor(c.region)),
      candidates,
    };
  }

  const runnerUp = measured.find((c) => c !== chosen);
  const versus = runnerUp ? `, vs ${formatMs(runnerUp.exchangeMs!)} from ${nameOf(runnerUp.region)}` : '; no other region has a figure for it';
  return {
    region: chosen.region,
    reason: `${nameOf(chosen.region)}: ${formatMs(chosen.exchangeMs!)} to ${where}${versus}.${leftOut}`,
    basis: 'exchange',
    simulated: simulatedFor(chosen.region) || (runnerUp ? simulatedFor(runnerUp.region) : false),
    candidates,
  };
}

/** Which region answers the user fastest: where the dashboard's own round trips are shortest. Pure. */
export function recommendClosestRegion(regions: readonly Region[], probes: readonly RegionProbe[] | null): Recommendation {
  const candidates = candidatesOf(regions, probes, null);
  const nameOf = (id: RegionId) => regions.find((r) => r.id === id)?.name ?? id;
  const answered = candidates.filter((c) => c.userMs !== null).sort(byMs((c) => c.userMs));
  const closest = answered[0];
  if (!probes || !closest || closest.userMs === null) {
    return {
      region: null,
      reason: probes ? 'No region answered your probe. Check your connection, then probe again.' : 'Probe the regions to see which one is closest to you.',
      basis: 'none',
      simulated: false,
      candidates,
    };
  }
  const runnerUp = answered[1];
  const versus = runnerUp?.userMs != null ? `, vs ${formatMs(runnerUp.userMs)} from ${nameOf(runnerUp.region)}` : '';
  return {
    region: closest.region,
    reason: `${nameOf(closest.region)} answers you fastest: ${formatMs(closest.userMs)} median${versus}.`,
    basis: 'user',
    simulated: regions.find((r) => r.id === closest.region)?.simulated ?? false,
    candidates,
  };
}
