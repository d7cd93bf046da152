// Building elements from data without innerHTML (text is always text), and small formatters.

export function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs)) {
    if (value === undefined || value === null || value === false) continue;
    if (key === "class") el.className = value;
    else if (key.startsWith("on")) el.addEventListener(key.slice(2), value);
    else if (key === "dataset") Object.assign(el.dataset, value);
    else el.setAttribute(key, value === true ? "" : String(value));
  }
  for (const child of children.flat(Infinity)) {
    if (child === undefined || child === null || child === false) continue;
    el.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return el;
}

const DATE_PRECISION = {
  day: "on that day",
  week: "some day that week",
  month: "some day that month",
  year: "some day that year",
  range: "some day in this range",
};

/** "8 October 2015" or "7–8 October 2015 (some day in this range)". */
export function describeDate(event) {
  const start = event.date_start;
  const end = event.date_end && event.date_end !== start ? event.date_end : null;
  const text = end ? `${start} to ${end}` : start;
  const precision = event.date_precision || "day";
  const words = DATE_PRECISION[precision] || precision;
  return { text, precision, words };
}

const GEO_PRECISION = {
  1: "exact place",
  2: "near this place / part of a region",
  3: "only the region is known",
};

export function describeGeo(precision) {
  return precision ? `${precision}: ${GEO_PRECISION[precision] || "unknown"}` : "unknown";
}

/** low/best/high as "13 (13–?)"; unknown figures stay unknown, never 0. */
export function figures(low, best, high) {
  if (low == null && best == null && high == null) return "unknown";
  const range = low === high && low != null ? "" : ` (${low ?? "?"}–${high ?? "?"})`;
  return `${best ?? "?"}${range}`;
}

export const label = (code) => (code ? String(code).replaceAll("_", " ") : "");
