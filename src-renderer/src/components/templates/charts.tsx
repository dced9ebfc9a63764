// Charts for previews and backtests, on lightweight-charts (made for financial series: canvas, time axis
// in UTC, thousands of points). The library works in seconds; the engine in milliseconds.
import {
  AreaSeries,
  CandlestickSeries,
  ColorType,
  createChart,
  createSeriesMarkers,
  LineSeries,
  type DeepPartial,
  type ChartOptions,
  type SeriesMarker,
  type UTCTimestamp,
} from 'lightweight-charts';
import { useEffect, useRef } from 'react';
import type { CurvePoint, PreviewDecision, PreviewResult } from '../../../../src-shared/ipc-templates.ts';

const seconds = (ms: number) => Math.floor(ms / 1000) as UTCTimestamp;

/** The app's chart look (dark panel, muted axes): the backtests' charts and the Trades page's summary share it. */
export const CHART_THEME: DeepPartial<ChartOptions> = {
  layout: { background: { type: ColorType.Solid, color: '#161b22' }, textColor: '#8b949e', attributionLogo: false },
  grid: { vertLines: { color: '#21262d' }, horzLines: { color: '#21262d' } },
  rightPriceScale: { borderColor: '#30363d' },
  timeScale: { borderColor: '#30363d', timeVisible: true },
  autoSize: true,
};

/** A decision as a marker on the candle whose close it was taken at (the candle opening one timeframe before). */
function markerOf(d: PreviewDecision, timeframeMs: number): SeriesMarker<UTCTimestamp> {
  const time = seconds(d.time - timeframeMs);
  if (d.type === 'enter') {
    return d.side === 'long'
      ? { time, position: 'belowBar', shape: 'arrowUp', color: '#3fb950', text: 'long' }
      : { time, position: 'aboveBar', shape: 'arrowDown', color: '#f85149', text: 'short' };
  }
  if (d.type === 'exit') return { time, position: d.side === 'long' ? 'aboveBar' : 'belowBar', shape: 'circle', color: '#d29922', text: `exit: ${d.by}` };
  return { time, position: 'aboveBar', shape: 'square', color: '#8b949e', text: `blocked: ${d.by}` };
}

export function PreviewChart({ preview }: { preview: PreviewResult }) {
  const box = useRef<HTMLDivElement>(null);
  useEffect(() => {
    if (!box.current) return;
    const chart = createChart(box.current, CHART_THEME);
    const candles = chart.addSeries(CandlestickSeries, { upColor: '#3fb950', downColor: '#f85149', wickUpColor: '#3fb950', wickDownColor: '#f85149', borderVisible: false });
    candles.setData(preview.candles.map((c) => ({ time: seconds(c.time), open: c.open, high: c.high, low: c.low, close: c.close })));
    const timeframeMs = preview.candles.length > 1 ? preview.candles[1]!.time - preview.candles[0]!.time : 60_000;
    createSeriesMarkers(candles, preview.decisions.filter((d) => d.type !== 'blocked').map((d) => markerOf(d, timeframeMs)));
    chart.timeScale().fitContent();
    return () => chart.remove();
  }, [preview]);
  return <div ref={box} className="chart" role="img" aria-label="Preview: the last candles with the entries and exits the template would make" />;
}

/** Equity as a line, drawdown from the running peak as an area in a pane below. */
export function EquityChart({ curve }: { curve: readonly CurvePoint[] }) {
  const box = useRef<HTMLDivElement>(null);
  useEffect(() => {
    if (!box.current) return;
    const chart = createChart(box.current, CHART_THEME);
    const equity = chart.addSeries(LineSeries, { color: '#58a6ff', lineWidth: 2, title: 'equity' });
    equity.setData(curve.map((p) => ({ time: seconds(p.time), value: p.equity })));
    // Drawdown in its own pane below: the underwater curve, filled from zero down to it.
    const drawdown = chart.addSeries(
      AreaSeries,
      { lineColor: '#f85149', topColor: '#f8514933', bottomColor: '#f8514966', lineWidth: 1, title: 'drawdown %', invertFilledArea: true },
      1,
    );
    drawdown.setData(curve.map((p) => ({ time: seconds(p.time), value: -p.drawdownPercent })));
    chart.panes()[1]?.setHeight(90);
    chart.timeScale().fitContent();
    return () => chart.remove();
  }, [curve]);
  return <div ref={box} className="chart" data-testid="equity-chart" role="img" aria-label="Equity and drawdown over the backtest" />;
}
