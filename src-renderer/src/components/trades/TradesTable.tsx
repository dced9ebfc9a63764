import { useVirtualizer } from '@tanstack/react-virtual';
import { memo, useCallback, useEffect, useId, useRef, type KeyboardEvent, type ReactNode } from 'react';
import type { Trade, TradeSort } from '../../../../src-shared/trades.ts';
import { useNavigationStore } from '../../stores/navigation.ts';
import { useTradesStore } from '../../stores/trades.ts';
import { decisionWords, formatQuantity, formatSigned, formatTradeTime, rowAt, shortRun } from '../../stores/trades-view.ts';

/** Every row is this tall (CSS says the same): the scroll bar is right for 100,000 rows without measuring one. */
export const ROW_HEIGHT = 32;
const HEADER_HEIGHT = 36;

interface Column {
  header: string;
  /** The field main sorts by when the header is clicked; none for a column the list cannot be sorted by. */
  sort?: TradeSort['field'];
  numeric?: boolean;
  cell(trade: Trade): ReactNode;
}

const COLUMNS: readonly Column[] = [
  { header: 'Time', sort: 'time', cell: (t) => formatTradeTime(t.time) },
  { header: 'Bot', cell: (t) => t.botName },
  { header: 'Run', cell: (t) => <code title={t.runId}>{shortRun(t.runId)}</code> },
  { header: 'Symbol', cell: (t) => `${t.symbol}${t.testnet ? ' (testnet)' : ''}` },
  { header: 'Side', cell: (t) => <span className={`side-${t.side}`}>{t.side}</span> },
  { header: 'Size', sort: 'quantity', numeric: true, cell: (t) => formatQuantity(t.quantity) },
  { header: 'Price', sort: 'price', numeric: true, cell: (t) => formatQuantity(t.price) },
  { header: 'Fee', sort: 'fee', numeric: true, cell: (t) => formatQuantity(t.fee) },
  {
    header: 'Realized PnL',
    sort: 'realizedPnl',
    numeric: true,
    cell: (t) => (t.realizedPnl === null ? '—' : <span className={t.realizedPnl < 0 ? 'loss' : t.realizedPnl > 0 ? 'gain' : undefined}>{`${formatSigned(t.realizedPnl)} ${t.currency}`}</span>),
  },
  // The words may be longer than the column: the whole decision is in the row's tooltip and in the trade opened.
  { header: 'Decision', cell: (t) => <span title={decisionWords(t)}>{decisionWords(t)}</span> },
];

const ARIA_SORT = { asc: 'ascending', desc: 'descending' } as const;

interface RowProps {
  trade: Trade | null;
  index: number;
  top: number;
  selected: boolean;
  rowId: string;
  onPick(index: number, trade: Trade | null): void;
}

/** One row; drawn again only when its trade, place or selection changes, not on every scroll step. */
const TradeRow = memo(function TradeRow({ trade, index, top, selected, rowId, onPick }: RowProps) {
  return (
    <div
      role="row"
      id={rowId}
      aria-rowindex={index + 2}
      aria-selected={selected}
      className={selected ? 'trades-row selected' : 'trades-row'}
      style={{ transform: `translateY(${top}px)` }}
      data-trade-id={trade?.id}
      onClick={() => onPick(index, trade)}
    >
      {trade
        ? COLUMNS.map((column) => (
            <div role="gridcell" key={column.header} className={column.numeric ? 'numeric' : undefined}>
              {column.cell(trade)}
            </div>
          ))
        : COLUMNS.map((column, i) => (
            <div role="gridcell" key={column.header} className="muted">
              {i === 0 ? 'Loading…' : ''}
            </div>
          ))}
    </div>
  );
});

/**
 * The trades matching the filter, as a grid that draws only the rows in view and asks main for windows of rows as
 * they come near. Arrows, Page Up/Down, Home and End move the selected row; Enter or a click opens it.
 */
export function TradesTable() {
  const total = useTradesStore((s) => s.total) ?? 0;
  const windows = useTradesStore((s) => s.windows);
  const sort = useTradesStore((s) => s.sort);
  const filter = useTradesStore((s) => s.filter);
  const selected = useTradesStore((s) => s.selected);
  const select = useTradesStore((s) => s.select);
  const sortBy = useTradesStore((s) => s.sortBy);
  const showRows = useTradesStore((s) => s.showRows);
  const goTrade = useNavigationStore((s) => s.goTrade);
  const scroller = useRef<HTMLDivElement>(null);
  const idPrefix = useId();

  const virtualizer = useVirtualizer({
    count: total,
    getScrollElement: () => scroller.current,
    estimateSize: () => ROW_HEIGHT,
    overscan: 8,
    // The sticky header sits above the first row, inside the scrolling grid.
    scrollMargin: HEADER_HEIGHT,
    scrollPaddingStart: HEADER_HEIGHT,
  });
  const items = virtualizer.getVirtualItems();
  const first = items[0]?.index ?? 0;
  const last = items[items.length - 1]?.index ?? -1;

  useEffect(() => {
    if (last >= first) showRows(first, last);
  }, [first, last, showRows]);

  // Another filter or order is another list: start it at its top.
  useEffect(() => {
    scroller.current?.scrollTo({ top: 0 });
  }, [filter, sort]);

  const pick = useCallback(
    (index: number, trade: Trade | null) => {
      select(index);
      if (trade) goTrade(trade.id);
    },
    [select, goTrade],
  );

  const onKeyDown = (event: KeyboardEvent<HTMLDivElement>) => {
    // Keys on a header's sort button are the button's.
    if (event.target !== event.currentTarget || total === 0) return;
    const page = Math.max(1, Math.floor(((scroller.current?.clientHeight ?? 0) - HEADER_HEIGHT) / ROW_HEIGHT) - 1);
    const from = selected ?? -1;
    const to =
      event.key === 'ArrowDown' ? from + 1
      : event.key === 'ArrowUp' ? from - 1
      : event.key === 'PageDown' ? from + page
      : event.key === 'PageUp' ? from - page
      : event.key === 'Home' ? 0
      : event.key === 'End' ? total - 1
      : null;
    if (to !== null) {
      event.preventDefault();
      const next = Math.min(total - 1, Math.max(0, to));
      select(next);
      virtualizer.scrollToIndex(next, { align: 'auto' });
      return;
    }
    if (event.key === 'Enter' && selected !== null) {
      const trade = rowAt(windows, selected);
      if (trade) {
        event.preventDefault();
        goTrade(trade.id);
      }
    }
  };

  const rowId = (index: number) => `${idPrefix}-row-${index}`;
  const selectedShown = selected !== null && items.some((item) => item.index === selected);
  const busy = items.some((item) => rowAt(windows, item.index) === null);

  return (
    <div
      ref={scroller}
      role="grid"
      aria-label="Trades"
      aria-rowcount={total + 1}
      aria-colcount={COLUMNS.length}
      aria-busy={busy}
      aria-activedescendant={selectedShown ? rowId(selected) : undefined}
      tabIndex={0}
      className="trades-grid"
      onKeyDown={onKeyDown}
    >
      <div className="trades-grid-content">
        <div role="rowgroup" className="trades-head">
          <div role="row" aria-rowindex={1} className="trades-row">
            {COLUMNS.map((column) => (
              <div
                role="columnheader"
                key={column.header}
                className={column.numeric ? 'numeric' : undefined}
                aria-sort={column.sort && sort.field === column.sort ? ARIA_SORT[sort.direction] : undefined}
              >
                {column.sort ? (
                  <button type="button" className="sort-button" onClick={() => sortBy(column.sort!)}>
                    {column.header}
                    <span aria-hidden="true">{sort.field === column.sort ? (sort.direction === 'desc' ? ' ▼' : ' ▲') : ''}</span>
                  </button>
                ) : (
                  column.header
                )}
              </div>
            ))}
          </div>
        </div>
        <div role="rowgroup" className="trades-body" style={{ height: virtualizer.getTotalSize() }}>
          {items.map((item) => (
            <TradeRow
              // Keyed by its place among the rows drawn, not by its position in the list: a row scrolling out gives its
              // elements to the one scrolling in, so a scroll changes text instead of making and dropping elements.
              key={item.index % items.length}
              index={item.index}
              trade={rowAt(windows, item.index)}
              top={item.start - HEADER_HEIGHT}
              selected={item.index === selected}
              rowId={rowId(item.index)}
              onPick={pick}
            />
          ))}
        </div>
      </div>
    </div>
  );
}
