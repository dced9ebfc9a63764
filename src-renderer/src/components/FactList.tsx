/** One fact: its term, its value, and (when a test or style must find the value) a key set as `data-fact`. */
export type Fact = readonly [term: string, value: string, key?: string];

/** Terms and their values as a definition list, one `div` a pair so each pair lays out as a unit. */
export function FactList({ facts, className, testId, label }: { facts: readonly Fact[]; className: string; testId?: string; label?: string }) {
  return (
    <dl className={className} data-testid={testId} aria-label={label}>
      {facts.map(([term, value, key]) => (
        <div key={key ?? term}>
          <dt>{term}</dt>
          <dd data-fact={key}>{value}</dd>
        </div>
      ))}
    </dl>
  );
}
