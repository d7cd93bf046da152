// The page's whole state lives in its URL: the filters (named as the API's), the map view,
// the timeline interval and the open event. Reloading or sharing the URL restores the view.

import { FILTER_KEYS } from "./api.js";

export function readState(search = window.location.search) {
  const params = new URLSearchParams(search);
  const filters = {};
  for (const key of FILTER_KEYS) {
    const value = params.get(key);
    if (value) filters[key] = value;
  }
  const view = {};
  const z = Number.parseInt(params.get("z") ?? "", 10);
  if (Number.isFinite(z)) view.zoom = Math.min(Math.max(z, 1), 18);
  const ll = (params.get("ll") ?? "").split(",").map(Number);
  if (ll.length === 2 && ll.every(Number.isFinite)) view.center = ll;
  const interval = params.get("interval");
  if (["day", "week", "month"].includes(interval)) view.interval = interval;
  const event = Number.parseInt(params.get("event") ?? "", 10);
  if (Number.isFinite(event) && event > 0) view.event = event;
  return { filters, view };
}

export function stateUrl({ filters, view }) {
  const params = new URLSearchParams();
  for (const key of FILTER_KEYS) {
    if (filters[key]) params.set(key, filters[key]);
  }
  if (view.zoom !== undefined) params.set("z", String(view.zoom));
  if (view.center) params.set("ll", view.center.map((v) => v.toFixed(4)).join(","));
  if (view.interval) params.set("interval", view.interval);
  if (view.event) params.set("event", String(view.event));
  const query = params.toString();
  return query ? `?${query}` : window.location.pathname;
}

/** Record the state: a new history entry for a filter or event change, in place for panning. */
export function writeState(state, { replace = false } = {}) {
  const url = stateUrl(state);
  if (url === window.location.search || (url === window.location.pathname && !window.location.search)) return;
  if (replace) window.history.replaceState(null, "", url);
  else window.history.pushState(null, "", url);
}
