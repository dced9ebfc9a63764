import { ColorType, createChart, LineSeries, type IChartApi, type ISeriesApi, type UTCTimestamp } from 'lightweight-charts';
import { useEffect, useRef } from 'react';
import { equitySeries, type EquityPoint } from '../../stores/bot-feed.ts';

/** The bot's equity as it reports it, redrawn as reports arrive (the chart is made once per page). */
export function BotEquityChart({ points }: { points: readonly EquityPoint[] }) {
  const box = useRef<HTMLDivElement>(null);
  const chart = useRef<{ api: IChartApi; line: ISeriesApi<'Line'> } | null>(null);
  useEffect(() => {
    if (!box.current) return;
    const api = createChart(box.current, {
      layout: { background: { type: ColorType.Solid, color: '#161b22' }, textColor: '#8b949e', attributionLogo: false },
      grid: { vertLines: { color: '#21262d' }, horzLines: { color: '#21262d' } },
      rightPriceScale: { borderColor: '#30363d' },
      timeScale: { borderColor: '#30363d', timeVisible: true, secondsVisible: true },
      autoSize: true,
    });
    chart.current = { api, line: api.addSeries(LineSeries, { color: '#58a6ff', lineWidth: 2, title: 'equity' }) };
    return () => {
      chart.current = null;
      api.remove();
    };
  }, []);
  useEffect(() => {
    if (!chart.current) return;
    chart.current.line.setData(equitySeries(points).map((p) => ({ time: p.time as UTCTimestamp, value: p.value })));
    chart.current.api.timeScale().fitContent();
  }, [points]);
  return <div ref={box} className="chart bot-chart" data-testid="bot-equity-chart" role="img" aria-label={`Equity over time, ${points.length} reports`} />;
}
