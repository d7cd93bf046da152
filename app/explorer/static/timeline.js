// The timeline: events per day/week/month stacked by event type, fatalities as a low–high band
// with the best estimate as a line. Dragging across it (the brush) sets the date filter.

import * as api from "./api.js";
import { label } from "./dom.js";

const SVG = "http://www.w3.org/2000/svg";
const COLORS = {
  battles: "#c2410c",
  explosions_remote_violence: "#b91c1c",
  violence_against_civilians: "#7e22ce",
  protests: "#0369a1",
  riots: "#0f766e",
  strategic_developments: "#4d7c0f",
};
const DAY = 86_400_000;

function s(tag, attrs = {}, text) {
  const el = document.createElementNS(SVG, tag);
  for (const [k, v] of Object.entries(attrs)) el.setAttribute(k, String(v));
  if (text !== undefined) el.textContent = text;
  return el;
}

const toTime = (iso) => Date.parse(`${iso}T00:00:00Z`);
const toIso = (time) => new Date(time).toISOString().slice(0, 10);

function bucketEnd(iso, interval) {
  const d = new Date(`${iso}T00:00:00Z`);
  if (interval === "day") return d.getTime() + DAY;
  if (interval === "week") return d.getTime() + 7 * DAY;
  return Date.UTC(d.getUTCFullYear(), d.getUTCMonth() + 1, 1);
}

function chooseInterval(rows) {
  if (!rows.length) return "month";
  const times = rows.map((r) => toTime(r.bucket));
  const span = (Math.max(...times) - Math.min(...times)) / DAY;
  if (span <= 120) return "day";
  if (span <= 3 * 366) return "week";
  return "month";
}

function sumByBucket(rows) {
  const sums = new Map();
  for (const row of rows) {
    const acc = sums.get(row.bucket) || { bucket: row.bucket, events: 0, fatalities_low: 0, fatalities_best: 0, fatalities_high: 0 };
    // An open high (null: some figure says "at least") draws the band up to the best only.
    for (const k of ["events", "fatalities_low", "fatalities_best"]) acc[k] += row[k];
    acc.fatalities_high += row.fatalities_high ?? row.fatalities_best;
    sums.set(row.bucket, acc);
  }
  return [...sums.values()];
}

export class Timeline {
  constructor(element, { onBrush }) {
    this.element = element;
    this.onBrush = onBrush;
    this.controller = null;
    this.range = null;
  }

  /** Draw for these filters; the date filter is shown as the brushed range, not applied. */
  async update(filters, { interval } = {}) {
    if (this.controller) this.controller.abort();
    const controller = new AbortController();
    this.controller = controller;
    const { date_from: from, date_to: to, ...rest } = filters;
    const signal = controller.signal;
    try {
      // One request: events and fatalities per bucket and event type; the totals per bucket
      // are their sums. Auto interval: months first, finer when the span is short.
      let byType = (await api.aggregates(rest, { interval: interval || "month", groupBy: ["event_type"], signal })).rows;
      const chosen = interval || chooseInterval(byType);
      if (chosen !== (interval || "month")) {
        byType = (await api.aggregates(rest, { interval: chosen, groupBy: ["event_type"], signal })).rows;
      }
      const totals = sumByBucket(byType);
      this.interval = chosen;
      this.draw(totals, byType, chosen, from, to);
      return totals.reduce((n, r) => n + r.events, 0);
    } catch (error) {
      if (error.name === "AbortError") return null;
      throw error;
    }
  }

  draw(totals, byType, interval, from, to) {
    const el = this.element;
    el.replaceChildren();
    const width = Math.max(el.clientWidth || 600, 280);
    const height = 170;
    const pad = { left: 34, right: 40, top: 10, bottom: 28 };
    const svg = s("svg", {
      width, height, viewBox: `0 0 ${width} ${height}`, role: "img", class: "timeline-svg",
      "aria-label": `Events and fatalities per ${interval}`,
    });
    el.append(svg);
    if (!totals.length) {
      svg.append(s("text", { x: width / 2, y: height / 2, "text-anchor": "middle", class: "empty" }, "No events"));
      this.scale = null;
      return;
    }
    const starts = totals.map((r) => toTime(r.bucket));
    const t0 = Math.min(...starts);
    const t1 = Math.max(...totals.map((r) => bucketEnd(r.bucket, interval)));
    const plotW = width - pad.left - pad.right;
    const plotH = height - pad.top - pad.bottom;
    const x = (t) => pad.left + ((t - t0) / (t1 - t0)) * plotW;
    const maxEvents = Math.max(1, ...totals.map((r) => r.events));
    const maxDead = Math.max(1, ...totals.map((r) => r.fatalities_high));
    const yEvents = (n) => pad.top + plotH - (n / maxEvents) * plotH;
    const yDead = (n) => pad.top + plotH - (n / maxDead) * plotH;
    this.scale = { t0, t1, x0: pad.left, plotW, interval, totals };

    // Bars: one stack per bucket, a segment per event type.
    const stacks = new Map();
    for (const row of byType) {
      if (!stacks.has(row.bucket)) stacks.set(row.bucket, []);
      stacks.get(row.bucket).push(row);
    }
    const bars = s("g", { class: "bars" });
    const types = new Set();
    for (const [bucket, rows] of stacks) {
      const left = x(toTime(bucket));
      const barW = Math.max(1, x(bucketEnd(bucket, interval)) - left - 1);
      let base = 0;
      for (const row of rows) {
        types.add(row.event_type);
        const rect = s("rect", {
          x: left, width: barW, y: yEvents(base + row.events), height: yEvents(base) - yEvents(base + row.events),
          fill: COLORS[row.event_type] || "#6b7280", class: "bar",
        });
        rect.append(s("title", {}, `${bucket}: ${row.events} ${label(row.event_type)}`));
        bars.append(rect);
        base += row.events;
      }
    }
    svg.append(bars);

    // Fatalities: band from low to high, line for best, on their own scale (right axis); a
    // bucket without events is a zero, not a gap to draw across.
    const mid = (r) => (x(toTime(r.bucket)) + x(bucketEnd(r.bucket, interval))) / 2;
    const known = new Map(totals.map((r) => [r.bucket, r]));
    const sorted = [];
    for (let t = t0; t < t1 && sorted.length < 5000; t = bucketEnd(toIso(t), interval)) {
      const bucket = toIso(t);
      sorted.push(known.get(bucket) || { bucket, fatalities_low: 0, fatalities_best: 0, fatalities_high: 0 });
    }
    const band = sorted.map((r) => `${mid(r)},${yDead(r.fatalities_high)}`)
      .concat([...sorted].reverse().map((r) => `${mid(r)},${yDead(r.fatalities_low)}`));
    svg.append(s("polygon", { points: band.join(" "), class: "dead-band" }));
    svg.append(s("polyline", { points: sorted.map((r) => `${mid(r)},${yDead(r.fatalities_best)}`).join(" "), class: "dead-line" }));

    // Axes: first and last dates, the maxima.
    svg.append(s("text", { x: pad.left, y: height - 8, class: "tick" }, toIso(t0)));
    svg.append(s("text", { x: width - pad.right, y: height - 8, class: "tick", "text-anchor": "end" }, toIso(t1 - DAY)));
    svg.append(s("text", { x: pad.left - 4, y: pad.top + 8, class: "tick", "text-anchor": "end" }, String(maxEvents)));
    svg.append(s("text", { x: width - pad.right + 4, y: pad.top + 8, class: "tick dead" }, String(maxDead)));
    svg.append(s("line", { x1: pad.left, x2: width - pad.right, y1: pad.top + plotH, y2: pad.top + plotH, class: "axis" }));

    // The selected dates.
    if (from || to) {
      const a = from ? Math.max(x(toTime(from)), pad.left) : pad.left;
      const b = to ? Math.min(x(toTime(to) + DAY), width - pad.right) : width - pad.right;
      if (b > a) svg.append(s("rect", { x: a, width: b - a, y: pad.top, height: plotH, class: "selection" }));
    }
    this.legend(types);
    this.brush(svg, pad, plotH);
  }

  legend(types) {
    const legend = document.createElement("p");
    legend.className = "timeline-legend";
    for (const type of types) {
      const swatch = document.createElement("span");
      swatch.className = `swatch t-${type}`;
      legend.append(swatch, ` ${label(type)}  `);
    }
    const band = document.createElement("span");
    band.className = "swatch dead";
    legend.append(band, " fatalities (band: low–high, line: best; right scale)");
    this.element.append(legend);
  }

  brush(svg, pad, plotH) {
    let start = null;
    let rect = null;
    const localX = (evt) => {
      const box = svg.getBoundingClientRect();
      const { x0, plotW } = this.scale;
      return Math.min(Math.max(evt.clientX - box.left, x0), x0 + plotW);
    };
    svg.addEventListener("pointerdown", (evt) => {
      if (!this.scale) return;
      start = localX(evt);
      rect = s("rect", { x: start, width: 0, y: pad.top, height: plotH, class: "brush" });
      svg.append(rect);
      svg.setPointerCapture(evt.pointerId);
    });
    svg.addEventListener("pointermove", (evt) => {
      if (start === null) return;
      const now = localX(evt);
      rect.setAttribute("x", String(Math.min(start, now)));
      rect.setAttribute("width", String(Math.abs(now - start)));
    });
    svg.addEventListener("pointerup", (evt) => {
      if (start === null) return;
      const end = localX(evt);
      const [a, b] = [Math.min(start, end), Math.max(start, end)];
      start = null;
      if (b - a < 3) { rect.remove(); return; }
      const { t0, t1, x0, plotW } = this.scale;
      const time = (px) => t0 + ((px - x0) / plotW) * (t1 - t0);
      // Whole days: the first day the brush touches to the last.
      const from = toIso(Math.floor(time(a) / DAY) * DAY);
      const to = toIso(Math.ceil(time(b) / DAY) * DAY - DAY);
      this.onBrush(from, to < from ? from : to);
    });
  }
}
