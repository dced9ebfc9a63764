import { useId } from 'react';
import { useTradesStore } from '../../stores/trades.ts';
import { dayOf, fromOfDay, isFiltered, toOfDay } from '../../stores/trades-view.ts';

const MARKETS = { all: 'Live and testnet', live: 'Live', testnet: 'Testnet' } as const;
type Market = keyof typeof MARKETS;
const marketOf = (testnet: boolean | undefined): Market => (testnet === undefined ? 'all' : testnet ? 'testnet' : 'live');

/** Which trades the table and the summary show: each choice applies at once; "Clear filter" shows them all again. */
export function TradesFilterBar() {
  const filter = useTradesStore((s) => s.filter);
  const facets = useTradesStore((s) => s.facets);
  const setFilter = useTradesStore((s) => s.setFilter);
  const clearFilter = useTradesStore((s) => s.clearFilter);
  const id = useId();
  // A choice the copy no longer has (its bot was deleted) still shows as picked, so the filter never lies.
  const bots = filter.botId && !facets.bots.some((b) => b.id === filter.botId) ? [...facets.bots, { id: filter.botId, name: filter.botId }] : facets.bots;
  const symbols = filter.symbol && !facets.symbols.includes(filter.symbol) ? [...facets.symbols, filter.symbol] : facets.symbols;

  return (
    <form role="search" aria-label="Filter trades" className="trades-filter" onSubmit={(event) => event.preventDefault()}>
      <span className="trades-filter-field">
        <label htmlFor={`${id}-bot`}>Bot</label>
        <select id={`${id}-bot`} value={filter.botId ?? ''} onChange={(event) => setFilter({ botId: event.target.value || undefined })}>
          <option value="">All bots</option>
          {bots.map((bot) => (
            <option key={bot.id} value={bot.id}>
              {bot.name}
            </option>
          ))}
        </select>
      </span>
      <span className="trades-filter-field">
        <label htmlFor={`${id}-symbol`}>Symbol</label>
        <select id={`${id}-symbol`} value={filter.symbol ?? ''} onChange={(event) => setFilter({ symbol: event.target.value || undefined })}>
          <option value="">All symbols</option>
          {symbols.map((symbol) => (
            <option key={symbol} value={symbol}>
              {symbol}
            </option>
          ))}
        </select>
      </span>
      <span className="trades-filter-field">
        <label htmlFor={`${id}-from`}>From (UTC)</label>
        <input id={`${id}-from`} type="date" value={dayOf(filter.from)} onChange={(event) => setFilter({ from: fromOfDay(event.target.value) })} />
      </span>
      <span className="trades-filter-field">
        <label htmlFor={`${id}-to`}>To (UTC)</label>
        <input id={`${id}-to`} type="date" value={dayOf(filter.to, true)} onChange={(event) => setFilter({ to: toOfDay(event.target.value) })} />
      </span>
      <span className="trades-filter-field">
        <label htmlFor={`${id}-side`}>Side</label>
        <select
          id={`${id}-side`}
          value={filter.side ?? ''}
          onChange={(event) => setFilter({ side: event.target.value === 'buy' || event.target.value === 'sell' ? event.target.value : undefined })}
        >
          <option value="">Buy and sell</option>
          <option value="buy">Buy</option>
          <option value="sell">Sell</option>
        </select>
      </span>
      <span className="trades-filter-field">
        <label htmlFor={`${id}-market`}>Market</label>
        <select
          id={`${id}-market`}
          value={marketOf(filter.testnet)}
          onChange={(event) => {
            const market = event.target.value as Market;
            setFilter({ testnet: market === 'all' ? undefined : market === 'testnet' });
          }}
        >
          {Object.entries(MARKETS).map(([value, label]) => (
            <option key={value} value={value}>
              {label}
            </option>
          ))}
        </select>
      </span>
      <button type="button" onClick={clearFilter} disabled={!isFiltered(filter)}>
        Clear filter
      </button>
    </form>
  );
}
