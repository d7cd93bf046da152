// Wiring: the URL state, the filter form, the map, the timeline, the list and the detail.

import * as api from "./api.js";
import { h, label } from "./dom.js";
import { renderDetail } from "./detail.js";
import { EventMap } from "./map.js";
import { readState, writeState } from "./state.js";
import { Timeline } from "./timeline.js";

const $ = (id) => document.getElementById(id);
const form = $("filters");
let state = readState();
let listController = null;
let detailController = null;
let nextUrl = null;
let readyCount = 0;

function status(text) {
  $("status").textContent = text;
}

function fillForm(filters) {
  for (const key of api.FILTER_KEYS) {
    const field = form.elements.namedItem(key);
    if (field) field.value = filters[key] || "";
  }
}

function readForm() {
  const filters = {};
  for (const key of api.FILTER_KEYS) {
    const field = form.elements.namedItem(key);
    if (field && field.value.trim()) filters[key] = field.value.trim();
  }
  return filters;
}

function listItem(event) {
  const type = event.sub_event_type || {};
  const place = event.place ? event.place.name : "no place";
  const dates = event.date_end && event.date_end !== event.date_start
    ? `${event.date_start} to ${event.date_end}` : event.date_start;
  return h("li", { class: "event", dataset: { eventId: event.id } },
    h("button", { type: "button", class: "event-button", onclick: () => openEvent(event.id) },
      h("span", { class: "date" }, dates, h("small", {}, ` (${event.date_precision})`)),
      h("span", { class: "type" }, type.name || label(type.code)),
      h("span", { class: "place" }, place, event.place && event.place.admin1 ? `, ${event.place.admin1}` : ""),
      h("span", { class: "summary" }, event.summary || ""),
      event.fatalities_best != null ? h("span", { class: "dead" }, `${event.fatalities_best} killed (best)`) : null));
}

async function loadList(filters) {
  if (listController) listController.abort();
  listController = new AbortController();
  const signal = listController.signal;
  const page = await api.listEvents(filters, { signal });
  $("event-list").replaceChildren(...page.items.map(listItem));
  nextUrl = page.next_url;
  $("more").hidden = !nextUrl;
  return page.items.length;
}

async function moreEvents() {
  if (!nextUrl) return;
  const page = await api.nextPage(nextUrl);
  $("event-list").append(...page.items.map(listItem));
  nextUrl = page.next_url;
  $("more").hidden = !nextUrl;
}

function updateExports(filters) {
  for (const format of ["csv", "geojson", "ndjson"]) {
    const link = $(`export-${format}`);
    link.href = api.exportUrl(filters, format);
    link.setAttribute("download", `conflictdb-events.${format === "geojson" ? "geojson" : format}`);
  }
}

const eventMap = new EventMap($("map"), {
  onOpen: (id) => openEvent(id),
  onMove: (view) => {
    state.view = { ...state.view, ...view };
    writeState(state, { replace: true });
  },
});
const timeline = new Timeline($("timeline"), {
  onBrush: (from, to) => {
    state.filters = { ...state.filters, date_from: from, date_to: to };
    fillForm(state.filters);
    writeState(state);
    refresh();
  },
});

async function refresh() {
  const filters = state.filters;
  updateExports(filters);
  status("Loading…");
  const started = performance.now();
  try {
    const [total] = await Promise.all([
      timeline.update(filters, { interval: state.view.interval }),
      loadList(filters),
      eventMap.setFilters(filters),
    ]);
    const ms = Math.round(performance.now() - started);
    const shown = $("event-list").children.length;
    const listed = `${shown.toLocaleString()}${nextUrl ? "+" : ""} event${shown === 1 && !nextUrl ? "" : "s"}`;
    const dated = filters.date_from || filters.date_to;
    if (total == null) $("count").textContent = listed;
    else if (!dated) $("count").textContent = `${total.toLocaleString()} event${total === 1 ? "" : "s"}`;
    else $("count").textContent = `${listed} in the dates chosen (${total.toLocaleString()} at any date)`;
    status(`Ready in ${ms} ms`);
    readyCount += 1;
    document.body.dataset.ready = String(readyCount);
    // Milliseconds since the navigation began, for the timings in docs/benchmarks.md.
    document.body.dataset.readyMs = String(Math.round(performance.now()));
  } catch (error) {
    if (error.name === "AbortError") return;
    status(`Could not load: ${error.message}`);
  }
}

async function openEvent(id, { push = true } = {}) {
  if (detailController) detailController.abort();
  detailController = new AbortController();
  state.view = { ...state.view, event: id };
  if (push) writeState(state);
  const panel = $("detail");
  panel.hidden = false;
  layoutWithDetail(true);
  $("detail-body").replaceChildren(h("p", {}, "Loading the event…"));
  try {
    const event = await renderDetail($("detail-body"), id, { signal: detailController.signal });
    eventMap.showEvent(event);
    $("detail-title").textContent = `Event ${event.external_id}`;
    panel.dataset.loaded = String(id);
    $("detail-title").focus();
  } catch (error) {
    if (error.name === "AbortError") return;
    $("detail-body").replaceChildren(h("p", { class: "error" }, `Could not load event ${id}: ${error.message}`));
  }
}

function layoutWithDetail(on) {
  document.querySelector(".layout").classList.toggle("with-detail", on);
  eventMap.map.invalidateSize();
}

function closeEvent() {
  $("detail").hidden = true;
  layoutWithDetail(false);
  eventMap.showEvent(null);
  const { event: _closed, ...view } = state.view;
  state.view = view;
  writeState(state);
}

function restore() {
  state = readState();
  fillForm(state.filters);
  $("interval").value = state.view.interval || "";
  eventMap.setView(state.view);
  refresh();
  if (state.view.event) openEvent(state.view.event, { push: false });
  else if (!$("detail").hidden) {
    $("detail").hidden = true;
    layoutWithDetail(false);
    eventMap.showEvent(null);
  }
}

form.addEventListener("submit", (evt) => {
  evt.preventDefault();
  state.filters = readForm();
  writeState(state);
  refresh();
});
$("reset").addEventListener("click", () => {
  state.filters = {};
  fillForm(state.filters);
  writeState(state);
  refresh();
});
$("clear-dates").addEventListener("click", () => {
  const { date_from: _f, date_to: _t, ...rest } = state.filters;
  state.filters = rest;
  fillForm(state.filters);
  writeState(state);
  refresh();
});
$("interval").addEventListener("change", (evt) => {
  state.view = { ...state.view, interval: evt.target.value || undefined };
  writeState(state);
  timeline.update(state.filters, { interval: state.view.interval }).catch(() => {});
});
$("more").addEventListener("click", () => moreEvents().catch((e) => status(e.message)));
$("close-detail").addEventListener("click", closeEvent);
document.addEventListener("keydown", (evt) => {
  if (evt.key === "Escape" && !$("detail").hidden) closeEvent();
});
window.addEventListener("popstate", restore);

api.eventTypes().then((types) => {
  const select = $("f-event_type");
  const seen = new Set();
  for (const t of types) {
    if (seen.has(t.event_type_code)) continue;
    seen.add(t.event_type_code);
    select.append(h("option", { value: t.event_type_code }, label(t.event_type_code)));
  }
  select.value = state.filters.event_type || "";
}).catch(() => {});

api.boundaries("110m").then((geojson) => {
  const list = $("countries");
  const names = geojson.features.map((f) => f.properties).filter((p) => p.iso_a2)
    .sort((a, b) => a.name.localeCompare(b.name));
  list.replaceChildren(...names.map((p) => h("option", { value: p.iso_a2 }, p.name)));
}).catch(() => {});

restore();
