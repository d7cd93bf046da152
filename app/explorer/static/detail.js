// One event, for a reader: when and where with their precision, who with their role and status,
// and the claims side by side: who says what, in their own words, with their figures, and which
// claims confirm or dispute which. Then the revision history.

import * as api from "./api.js";
import { h, describeDate, describeGeo, figures, label } from "./dom.js";

function figuresOf(event, claimId) {
  const out = [];
  for (const c of event.casualties || []) {
    if (c.claim_id !== claimId) continue;
    const who = [label(c.casualty_group), c.actor ? `(${c.actor.name})` : ""].filter(Boolean).join(" ");
    out.push({ what: `${label(c.outcome)}: ${who}`, low: c.low, best: c.best, high: c.high, words: c.qualifier });
  }
  for (const m of event.materiel_losses || []) {
    if (m.claim_id !== claimId) continue;
    out.push({ what: `${label(m.outcome)}: ${m.item}`, low: m.low, best: m.best, high: m.high, words: m.qualifier });
  }
  for (const t of event.territory_changes || []) {
    if (t.claim_id !== claimId) continue;
    const place = t.place ? t.place.name : label(t.place_kind);
    out.push({
      what: `territory: ${place}${t.gained_by ? `, gained by ${t.gained_by.name}` : ""}`,
      low: t.low, best: t.best, high: t.high, words: t.qualifier,
    });
  }
  for (const a of event.airspace_violations || []) {
    if (a.claim_id !== claimId) continue;
    out.push({ what: "airspace violations", low: a.low, best: a.best, high: a.high, words: a.qualifier });
  }
  return out;
}

function claimCard(claim, figs, { disputedBy = [], byId = new Map() } = {}) {
  const source = claim.source ? claim.source.name : "unknown source";
  const via = claim.via_source ? ` via ${claim.via_source.name}` : "";
  const disputes = claim.disputes_claim_id ? byId.get(claim.disputes_claim_id) : null;
  const stance = claim.stance || "asserts";
  return h("article", {
    class: `claim stance-${stance}`, id: `claim-${claim.id}`, "aria-label": `Claim by ${source}`,
    dataset: { claimId: claim.id, source },
  },
    h("header", {},
      h("strong", { class: "source" }, source), h("span", { class: "via" }, via),
      h("span", { class: `badge stance ${stance}` }, stance),
      claim.grade ? h("span", { class: `badge grade ${claim.grade}` }, claim.grade) : null),
    h("p", { class: "meta" }, `${label(claim.kind)} claim #${claim.id}`,
      claim.claimed_on ? ` · said on ${claim.claimed_on}` : ""),
    h("p", { class: "assertion" }, claim.assertion),
    claim.quote ? h("blockquote", { class: "quote" }, `“${claim.quote}”`) : null,
    figs.length ? h("ul", { class: "figures" }, figs.map((f) => h("li", {},
      h("span", { class: "what" }, f.what), " ",
      h("span", { class: "number" }, figures(f.low, f.best, f.high)),
      f.words ? h("q", { class: "words" }, f.words) : null))) : null,
    claim.disputes_claim_id ? h("p", { class: "dispute" }, "Disputes ",
      h("a", { href: `#claim-${claim.disputes_claim_id}` }, `claim #${claim.disputes_claim_id}`),
      disputes ? ` (${disputes.source ? disputes.source.name : ""}: “${disputes.assertion}”)` : "") : null,
    disputedBy.length ? h("p", { class: "dispute" }, "Disputed by ",
      disputedBy.map((d, i) => [i ? ", " : "", h("a", { href: `#claim-${d.id}` },
        `${d.source ? d.source.name : "?"} (#${d.id})`)])) : null);
}

function claimsGrid(claims, figsFor) {
  const byId = new Map(claims.map((c) => [c.id, c]));
  const disputedBy = new Map();
  for (const c of claims) {
    if (c.disputes_claim_id) {
      if (!disputedBy.has(c.disputes_claim_id)) disputedBy.set(c.disputes_claim_id, []);
      disputedBy.get(c.disputes_claim_id).push(c);
    }
  }
  return h("div", { class: "claims" }, claims.map((c) => claimCard(c, figsFor(c), {
    disputedBy: disputedBy.get(c.id) || [], byId,
  })));
}

function actorsTable(actors) {
  if (!actors.length) return h("p", {}, "No actors recorded.");
  return h("table", { class: "actors" },
    h("thead", {}, h("tr", {}, h("th", { scope: "col" }, "Actor"), h("th", { scope: "col" }, "Role"),
      h("th", { scope: "col" }, "Status"), h("th", { scope: "col" }, "Note"))),
    h("tbody", {}, actors.map((a) => h("tr", { class: `status-${a.status}` },
      h("td", {}, a.name), h("td", {}, label(a.role)),
      h("td", {}, h("span", { class: `badge status ${a.status}` }, a.status === "disputed" ? "disputed" : a.status)),
      h("td", {}, a.note || "")))));
}

function changedFields(before, after) {
  if (!before) return [];
  const keys = new Set([...Object.keys(before || {}), ...Object.keys(after || {})]);
  const skip = new Set(["version", "updated_at", "created_at"]);
  return [...keys].filter((k) => !skip.has(k) && JSON.stringify(before[k]) !== JSON.stringify(after[k]));
}

function history(revisions) {
  if (!revisions.length) return h("p", {}, "No revisions recorded.");
  const sorted = [...revisions].sort((a, b) => a.version - b.version);
  return h("ol", { class: "revisions" }, sorted.map((r, i) => {
    const changed = changedFields(i ? sorted[i - 1].snapshot : null, r.snapshot);
    return h("li", {},
      h("strong", {}, `version ${r.version}`), ` · ${r.operation} · ${r.changed_at.replace("T", " ").slice(0, 19)} UTC`,
      r.api_key_id ? ` · by API key #${r.api_key_id}` : " · by the loader",
      changed.length ? ` · changed: ${changed.join(", ")}` : "");
  }));
}

export async function renderDetail(container, id, { signal } = {}) {
  const [event, revisions] = await Promise.all([
    api.getEvent(id, signal),
    api.getRevisions(id, signal).catch(() => []),
  ]);
  const campaigns = await Promise.all((event.campaigns || []).map((c) => api.getCampaign(c.id, signal).catch(() => null)));
  const date = describeDate(event);
  const place = event.place;
  const type = event.sub_event_type || {};
  const where = place
    ? [place.name, place.admin2, place.admin1, place.country_code].filter(Boolean).join(", ")
    : "no place recorded";
  const body = h("div", { class: "detail", dataset: { eventId: event.id } },
    h("h3", { class: "event-title" }, `${type.name || label(type.code)} · ${type.acled_event_type || ""}`),
    h("p", { class: "ids" }, `${event.dataset} / ${event.external_id} · #${event.id} · version ${event.version}`),
    h("p", { class: "summary" }, event.summary),
    h("dl", { class: "facts" },
      h("dt", {}, "When"), h("dd", { class: "when" }, date.text,
        h("span", { class: "precision" }, ` — date precision: ${date.precision} (${date.words})`)),
      h("dt", {}, "Where"), h("dd", { class: "where" }, where,
        place && place.latitude != null ? ` (${place.latitude}, ${place.longitude})` : "",
        h("span", { class: "precision" }, ` — geo precision ${describeGeo(event.geo_precision ?? place?.geo_precision)}`)),
      h("dt", {}, "Fatalities"), h("dd", { class: "fatalities" },
        `best ${event.fatalities_best ?? "unknown"}, low ${event.fatalities_low ?? "unknown"}, high ${event.fatalities_high ?? "unknown"}`),
      event.tags && event.tags.length ? [h("dt", {}, "Tags"), h("dd", {}, event.tags.join(", "))] : null),
    h("h4", {}, `Claims (${(event.claims || []).length}): who says what`),
    claimsGrid(event.claims || [], (c) => figuresOf(event, c.id)),
    h("h4", {}, "Actors"), actorsTable(event.actors || []),
    event.notes ? h("p", { class: "notes" }, h("strong", {}, "Notes: "), event.notes) : null,
    campaigns.filter(Boolean).map((c) => h("section", { class: "campaign" },
      h("h4", {}, `Claims about the campaign “${c.name}”`),
      c.description ? h("p", { class: "meta" }, c.description) : null,
      (c.claims || []).length ? claimsGrid(c.claims, (claim) => (claim.casualties || []).map((f) => ({
        what: `${label(f.outcome)}: ${label(f.casualty_group)}`, low: f.low, best: f.best, high: f.high, words: f.qualifier,
      }))) : h("p", {}, "No claims about it."))),
    h("h4", {}, "Revision history"), history(revisions));
  container.replaceChildren(body);
  return event;
}
