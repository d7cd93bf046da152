// The API client: every request the page makes goes through here, to this origin's /v1 only.

export const FILTER_KEYS = [
  "date_from", "date_to", "country", "admin1", "event_type", "actor", "source", "dataset", "q",
];

export class ApiError extends Error {
  constructor(status, problem) {
    super(problem && problem.detail ? problem.detail : `HTTP ${status}`);
    this.status = status;
    this.problem = problem;
  }
}

/** URLSearchParams of the filters that are set (the same names as GET /v1/events). */
export function filterParams(filters, extra = {}) {
  const params = new URLSearchParams();
  for (const key of FILTER_KEYS) {
    const value = filters[key];
    if (value !== undefined && value !== null && String(value).trim() !== "") {
      params.set(key, String(value).trim());
    }
  }
  for (const [key, value] of Object.entries(extra)) {
    if (Array.isArray(value)) value.forEach((v) => params.append(key, v));
    else if (value !== undefined && value !== null) params.set(key, String(value));
  }
  return params;
}

async function getJson(path, params, signal) {
  const url = params && [...params].length ? `${path}?${params}` : path;
  const response = await fetch(url, { signal, headers: { Accept: "application/json" } });
  if (!response.ok) {
    let problem = null;
    try { problem = await response.json(); } catch { /* not JSON */ }
    throw new ApiError(response.status, problem);
  }
  return response.json();
}

export const LIST_FIELDS = [
  "id", "external_id", "date_start", "date_end", "date_precision", "sub_event_type", "place",
  "geo_precision", "summary", "fatalities_low", "fatalities_best", "fatalities_high",
].join(",");

export function listEvents(filters, { limit = 100, signal, extra = {} } = {}) {
  return getJson("/v1/events", filterParams(filters, { fields: LIST_FIELDS, limit, ...extra }), signal);
}

export function nextPage(nextUrl, signal) {
  // next_url may be absolute on this server's host; keep the path and query only.
  const url = new URL(nextUrl, window.location.origin);
  return getJson(url.pathname, url.searchParams, signal);
}

export function eventsInBox(filters, bbox, { limit = 500, signal } = {}) {
  return getJson("/v1/events", filterParams(filters, {
    fields: "id,date_start,date_end,date_precision,place,geo_precision,summary,sub_event_type,fatalities_best",
    bbox, limit,
  }), signal);
}

export function grid(filters, { cell, bbox, signal }) {
  return getJson("/v1/maps/grid", filterParams(filters, { cell, bbox }), signal);
}

export function aggregates(filters, { interval, groupBy = [], signal }) {
  return getJson("/v1/aggregates", filterParams(filters, { interval, group_by: groupBy }), signal);
}

export const getEvent = (id, signal) => getJson(`/v1/events/${id}`, null, signal);
export const getRevisions = (id, signal) => getJson(`/v1/events/${id}/revisions`, null, signal);
export const getCampaign = (id, signal) => getJson(`/v1/campaigns/${id}`, null, signal);
export const eventTypes = () => getJson("/v1/event-types", null);
export const boundaries = (scale) => getJson("/v1/maps/boundaries", new URLSearchParams({ scale }));
export const admin1Outlines = (bbox) =>
  getJson("/v1/maps/boundaries", new URLSearchParams({ level: "admin1", bbox }));

/** The export URL of the current selection: the list endpoint with format=. */
export function exportUrl(filters, format) {
  const extra = { format };
  if (format === "csv") extra.shape = "acled";
  return `/v1/events?${filterParams(filters, extra)}`;
}
