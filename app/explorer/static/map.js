// The map: country outlines drawn from GeoJSON (no tiles, nothing from another host), then
// either the events themselves (few in view) or the server's grid of counts (many in view).

import * as api from "./api.js";
import { h, describeGeo, label } from "./dom.js";

const L = window.L;
// With at most this many events in view the map draws them one by one; beyond, the grid.
const POINTS_MAX = 400;
// From this zoom on, admin-1 outlines (the gazetteer's) are drawn for the view and around it.
const ADMIN1_ZOOM = 6;
const NICE_CELLS = [45, 20, 10, 5, 2, 1, 0.5, 0.2, 0.1, 0.05, 0.02, 0.01, 0.005, 0.002, 0.001];
const PRECISION_STYLE = {
  1: { radius: 6, weight: 2, fillOpacity: 0.85, dashArray: null },
  2: { radius: 9, weight: 2, fillOpacity: 0.45, dashArray: null },
  3: { radius: 14, weight: 2, fillOpacity: 0.12, dashArray: "4 4" },
};

/** A cell of about 40 px at this zoom, rounded to a value the grid caches well. */
export function cellFor(zoom) {
  const degrees = (360 / (256 * 2 ** zoom)) * 40;
  return NICE_CELLS.find((c) => c <= degrees) ?? NICE_CELLS[NICE_CELLS.length - 1];
}

function bboxOf(bounds) {
  const west = Math.max(bounds.getWest(), -180);
  const east = Math.min(bounds.getEast(), 180);
  const south = Math.max(bounds.getSouth(), -90);
  const north = Math.min(bounds.getNorth(), 90);
  if (east - west >= 359 || west >= east) return null;
  return [west, south, east, north].map((v) => v.toFixed(4)).join(",");
}

export class EventMap {
  constructor(element, { onOpen, onMove }) {
    this.onOpen = onOpen;
    this.onMove = onMove;
    this.map = L.map(element, {
      center: [30, 20], zoom: 3, minZoom: 2, maxZoom: 14, worldCopyJump: true,
      zoomSnap: 1, keyboard: true, attributionControl: false,
      // No glide after a drag: the map stops where it is let go and draws at once.
      inertia: false,
    });
    this.outlineRenderer = L.canvas({ padding: 0.2 });
    // Grid cells can be thousands: canvas. Points stay SVG (each a DOM element, as tests see).
    this.gridRenderer = L.canvas({ padding: 0.5 });
    this.outlines = null;
    this.outlinesScale = null;
    this.admin1 = null;
    this.admin1Bounds = null;
    this.data = L.layerGroup().addTo(this.map);
    this.highlight = L.layerGroup().addTo(this.map);
    this.controller = null;
    this.filters = {};
    this.mode = null;
    this.fitPending = false;
    this.map.on("moveend", () => {
      this.onMove(this.view());
      this.refresh();
    });
  }

  view() {
    const c = this.map.getCenter();
    return { zoom: this.map.getZoom(), center: [c.lat, c.lng] };
  }

  setView(view) {
    if (view.center && view.zoom !== undefined) {
      this.map.setView(view.center, view.zoom, { animate: false });
    } else {
      this.fitPending = true;
    }
  }

  async loadOutlines() {
    const scale = this.map.getZoom() >= 5 ? "50m" : "110m";
    if (this.outlinesScale === scale || this.loadingScale === scale) return;
    this.loadingScale = scale;
    const geojson = await api.boundaries(scale);
    const layer = L.geoJSON(geojson, {
      renderer: this.outlineRenderer,
      interactive: false,
      style: { color: "#8a8f98", weight: 0.8, fillColor: "#f3f1ea", fillOpacity: 1 },
    });
    if (this.outlines) this.outlines.remove();
    this.outlines = layer.addTo(this.map);
    this.outlines.bringToBack();
    this.outlinesScale = scale;
    this.loadingScale = null;
  }

  /** Admin-1 outlines at province zoom, fetched for the view padded by half (a pan inside it
   * asks nothing); below ADMIN1_ZOOM they are removed. The codes drawn are in data-admin1. */
  async loadAdmin1() {
    const container = this.map.getContainer();
    if (this.map.getZoom() < ADMIN1_ZOOM) {
      if (this.admin1) this.admin1.remove();
      this.admin1 = null;
      this.admin1Bounds = null;
      delete container.dataset.admin1;
      return;
    }
    const view = this.map.getBounds();
    if (this.admin1Bounds && this.admin1Bounds.contains(view)) return;
    const padded = view.pad(0.5);
    const bbox = bboxOf(padded);
    if (!bbox) return;
    this.admin1Bounds = padded;
    const geojson = await api.admin1Outlines(bbox);
    if (this.admin1Bounds !== padded) return; // a later view asked again meanwhile
    const layer = L.geoJSON(geojson, {
      renderer: this.outlineRenderer,
      interactive: false,
      style: { color: "#9aa0a8", weight: 0.6, dashArray: "3 3", fill: false },
    });
    if (this.admin1) this.admin1.remove();
    this.admin1 = layer.addTo(this.map);
    this.admin1.bringToBack();
    if (this.outlines) this.outlines.bringToBack();
    container.dataset.admin1 = geojson.features.map((f) => f.properties.code).join(" ");
  }

  setFilters(filters) {
    this.filters = filters;
    return this.refresh();
  }

  refresh() {
    this.pending = this.draw();
    return this.pending;
  }

  async draw() {
    this.loadOutlines().catch(() => {});
    this.loadAdmin1().catch(() => {
      this.admin1Bounds = null;
    });
    if (this.controller) this.controller.abort();
    const controller = new AbortController();
    this.controller = controller;
    const view = this.map.getBounds();
    const cell = cellFor(this.map.getZoom());
    const key = JSON.stringify([this.filters, cell]);
    const cached = this.cache;
    if (cached && cached.key === key && (cached.bounds === null || cached.bounds.contains(view))) {
      // A pan within what was fetched (the view and half of it around): no request, and
      // nothing to redraw unless another answer was drawn since.
      if (this.drawn !== cached) {
        if (cached.points) this.drawPoints(cached.points);
        else this.drawGrid(cached.grid);
        this.drawn = cached;
      }
      this.rendered();
      return undefined;
    }
    const padded = view.pad(0.5);
    const bbox = bboxOf(padded);
    try {
      const grid = await api.grid(this.filters, { cell, bbox, signal: controller.signal });
      if (this.fitPending && grid.events > POINTS_MAX * 10) {
        // Many events: the world view is the right first view; no second request.
        this.fitPending = false;
      }
      if (this.fitPending && grid.cells.length) {
        // No view in the URL: frame the events, then draw for that view.
        this.fitPending = false;
        const lats = grid.cells.map((c) => c.lat);
        const lons = grid.cells.map((c) => c.lon);
        this.map.fitBounds([[Math.min(...lats), Math.min(...lons)], [Math.max(...lats), Math.max(...lons)]],
          { maxZoom: 6, padding: [30, 30], animate: false });
        // fitBounds fired moveend, which started the drawing of the new view.
        return this.pending;
      }
      let points = null;
      if (grid.events <= POINTS_MAX) {
        points = (await api.eventsInBox(this.filters, bbox, {
          limit: POINTS_MAX, signal: controller.signal,
        })).items;
        this.drawPoints(points);
      } else {
        this.drawGrid(grid);
      }
      this.cache = { key, bounds: bbox ? padded : null, grid, points };
      this.drawn = this.cache;
      this.rendered();
    } catch (error) {
      if (error.name !== "AbortError") throw error;
    }
    return undefined;
  }

  rendered() {
    const container = this.map.getContainer();
    this.renders = (this.renders || 0) + 1;
    container.dataset.rendered = String(this.renders);
    container.dataset.mode = this.mode;
  }

  drawPoints(events) {
    this.mode = "points";
    this.data.clearLayers();
    const byPlace = new Map();
    for (const event of events) {
      const place = event.place;
      if (!place || place.latitude == null || place.longitude == null) continue;
      const key = `${place.latitude},${place.longitude}`;
      if (!byPlace.has(key)) byPlace.set(key, { place, events: [] });
      byPlace.get(key).events.push(event);
    }
    for (const { place, events: here } of byPlace.values()) {
      const precision = Math.max(...here.map((e) => e.geo_precision ?? place.geo_precision ?? 1));
      const style = PRECISION_STYLE[precision] || PRECISION_STYLE[1];
      const marker = L.circleMarker([place.latitude, place.longitude], {
        ...style,
        radius: style.radius + Math.min(here.length - 1, 6),
        color: "#a3241c",
        fillColor: "#d9452e",
        className: `ev-place precision-${precision}`,
      });
      marker.bindTooltip(
        `${place.name} (${here.length} event${here.length > 1 ? "s" : ""}; precision ${describeGeo(precision)})`,
      );
      marker.on("click", () => this.choose(place, here, marker));
      marker.on("add", () => {
        const el = marker.getElement();
        if (el) {
          el.dataset.place = place.name;
          el.dataset.events = here.map((e) => e.id).join(",");
        }
      });
      marker.addTo(this.data);
    }
  }

  choose(place, events, marker) {
    if (events.length === 1) {
      this.onOpen(events[0].id);
      return;
    }
    const list = h("div", { class: "popup-list" },
      h("strong", {}, `${place.name}: ${events.length} events`),
      h("ul", {}, events.map((e) => h("li", {},
        h("button", { type: "button", class: "link", onclick: () => { this.map.closePopup(); this.onOpen(e.id); } },
          `${e.date_start} · ${label(e.sub_event_type?.code)}`)))));
    marker.bindPopup(list).openPopup();
  }

  drawGrid(grid) {
    this.mode = "grid";
    this.data.clearLayers();
    const max = Math.max(1, ...grid.cells.map((c) => c.events));
    for (const cell of grid.cells) {
      const share = Math.sqrt(cell.events / max);
      const marker = L.circleMarker([cell.lat, cell.lon], {
        radius: 4 + share * 22,
        color: "#7a1c14",
        weight: 1,
        fillColor: cell.fatalities_best > 0 ? "#d9452e" : "#e8923a",
        fillOpacity: 0.55,
        renderer: this.gridRenderer,
      });
      marker.bindTooltip(
        `${cell.events.toLocaleString()} events, ${cell.fatalities_best.toLocaleString()} killed (best estimate)`,
      );
      marker.on("click", () => {
        const [west, south, east, north] = cell.bounds;
        this.map.fitBounds([[south, west], [north, east]]);
      });
      marker.addTo(this.data);
    }
  }

  showEvent(event) {
    this.highlight.clearLayers();
    const place = event && event.place;
    if (!place || place.latitude == null) return;
    L.circleMarker([place.latitude, place.longitude], {
      radius: 18, color: "#1d4ed8", weight: 3, fill: false, interactive: false,
      className: "ev-selected",
    }).addTo(this.highlight);
  }

  focusEvent(event) {
    const place = event && event.place;
    if (place && place.latitude != null) {
      this.map.setView([place.latitude, place.longitude], Math.max(this.map.getZoom(), 7));
    }
  }
}
