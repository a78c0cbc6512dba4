// A time series chart (uPlot, vendored) that follows the page's colours and width.

import { html, useEffect, useRef } from './ui.js';

const PALETTE = ['#2d8fd5', '#e0702b', '#2fa36b', '#b24bb8', '#d4a72c', '#d64550', '#5a6bd6', '#1aa3a3'];

function css(name) {
  return getComputedStyle(document.documentElement).getPropertyValue(name).trim();
}

/**
 * `series`: [{label, values}] sharing the x values `times` (unix seconds); `unit` formats the
 * y axis ("", "ms", "B").
 */
export function Chart({ title, times, series, unit = '', id }) {
  const el = useRef(null);
  const plot = useRef(null);
  useEffect(() => {
    const node = el.current;
    if (!node || !window.uPlot) return undefined;
    const fmt = (v) => {
      if (v === null || v === undefined) return '—';
      if (unit === 'B') { const u = ['B', 'KB', 'MB', 'GB']; let i = 0; let x = v; while (x >= 1024 && i < 3) { x /= 1024; i += 1; } return `${+x.toFixed(1)} ${u[i]}`; }
      return `${+Number(v).toFixed(unit === 'ms' ? 2 : 2)}${unit ? ` ${unit}` : ''}`;
    };
    const axis = { stroke: css('--muted'), grid: { stroke: css('--border'), width: 1 }, ticks: { stroke: css('--border') } };
    const opts = {
      width: Math.max(280, node.clientWidth),
      height: 190,
      scales: { x: { time: true } },
      axes: [axis, { ...axis, values: (u, vals) => vals.map(fmt), size: 64 }],
      series: [{}, ...series.map((s, i) => ({ label: s.label, stroke: PALETTE[i % PALETTE.length], width: 1.6, value: (u, v) => fmt(v), points: { show: false } }))],
      legend: { live: true },
      cursor: { drag: { x: false, y: false } },
    };
    const data = [times, ...series.map((s) => s.values)];
    plot.current = new window.uPlot(opts, data, node);
    const ro = new ResizeObserver(() => plot.current && plot.current.setSize({ width: Math.max(280, node.clientWidth), height: 190 }));
    ro.observe(node);
    return () => { ro.disconnect(); plot.current.destroy(); plot.current = null; };
  }, [series.length, series.map((s) => s.label).join('|')]);
  useEffect(() => {
    if (plot.current) plot.current.setData([times, ...series.map((s) => s.values)]);
  }, [times, series]);
  return html`<div class="chart" id=${id}><h3>${title}</h3><div ref=${el}></div></div>`;
}
