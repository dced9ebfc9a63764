import type { Combination } from '../src-shared/templates.ts';
import type { Score, Side } from './types.ts';

export interface WeightedScore {
  weight: number;
  score: Score;
}

/** Turns the signals' scores at one close into a side, or null for none (see Combination). */
export function combineScores(combination: Combination, scores: readonly WeightedScore[]): Side | null {
  if (scores.length === 0) return null;
  const longs = scores.filter((s) => s.score === 1).length;
  const shorts = scores.filter((s) => s.score === -1).length;
  switch (combination.mode) {
    case 'weightedSum': {
      let sum = 0;
      let weights = 0;
      for (const s of scores) {
        sum += s.weight * s.score;
        weights += s.weight;
      }
      const score = sum / weights;
      return score >= combination.threshold ? 'long' : score <= -combination.threshold ? 'short' : null;
    }
    case 'majority':
      if (longs > shorts && longs / scores.length >= combination.threshold) return 'long';
      if (shorts > longs && shorts / scores.length >= combination.threshold) return 'short';
      return null;
    case 'unanimous':
      return longs === scores.length ? 'long' : shorts === scores.length ? 'short' : null;
  }
}
