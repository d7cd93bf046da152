"""The explorer in a real browser (headless Chromium), against a real server with the seed report,
on SQLite and on PostgreSQL: what a person sees and can do on the page."""

from __future__ import annotations

import csv
import io
from urllib.parse import parse_qs, urlsplit

import httpx

from tests.explorer.conftest import Visit

REPORT_EVENTS = 14
HAMA = {"SYR-20151008-04", "SYR-20151008-06", "SYR-20151008-07"}


def _url_params(visit: Visit) -> dict[str, str]:
    return {k: v[0] for k, v in parse_qs(urlsplit(visit.page.url).query).items()}


def _listed(visit: Visit) -> int:
    count: int = visit.page.locator("#event-list li.event").count()
    return count


def _event_ids(visit: Visit) -> dict[str, int]:
    """external_id -> id, read from the API the page uses."""
    r = httpx.get(
        f"{visit.base_url}/v1/events",
        params={"fields": "id,external_id", "limit": 100},
        trust_env=False,
    )
    return {e["external_id"]: e["id"] for e in r.json()["items"]}


def _open_detail(visit: Visit, text: str) -> None:
    visit.page.locator("#event-list li.event", has_text=text).first.locator("button").click()
    visit.page.wait_for_selector("#detail[data-loaded]:not([hidden])")


def test_the_page_loads_with_the_report_on_the_map_and_in_the_list(visit: Visit) -> None:
    visit.open()
    page = visit.page
    assert _listed(visit) == REPORT_EVENTS
    page.wait_for_selector("#map[data-mode='points']")
    places = page.eval_on_selector_all("path.ev-place", "els => els.map(e => e.dataset.place)")
    # Every place with coordinates: Damascus (Syria), Hama, Sahl al-Ghab, Jeb al-Ahmar, Latakia,
    # the Caspian Sea, Brussels; each once, however many events it has.
    assert {"Jeb al-Ahmar", "Sahl al-Ghab", "Hama", "Brussels", "Caspian Sea"} <= set(places)
    assert len(places) == len(set(places)) == 7
    # Coarse places (ACLED precision 3) are drawn as such.
    assert page.locator("path.ev-place.precision-3").count() >= 4
    assert page.locator("path.ev-place.precision-1").count() == 1  # Brussels
    assert page.locator(".timeline-svg rect.bar").count() >= 4
    visit.shot("explorer-report")
    assert visit.console_errors == []
    assert visit.foreign_requests() == []


def test_filtering_by_hama_narrows_to_hamas_events(visit: Visit) -> None:
    visit.open()
    before = visit.ready_mark()
    visit.page.fill("#f-admin1", "Hama")
    visit.page.press("#f-admin1", "Enter")
    visit.wait_ready(before)
    assert _url_params(visit)["admin1"] == "Hama"
    assert _listed(visit) == len(HAMA)
    places = visit.page.eval_on_selector_all(
        "path.ev-place", "els => els.map(e => e.dataset.place)"
    )
    assert sorted(places) == ["Hama", "Sahl al-Ghab"]
    assert visit.console_errors == []


def test_brushing_the_timeline_narrows_the_dates(visit: Visit) -> None:
    visit.open()
    page = visit.page
    svg = page.locator(".timeline-svg")
    box = svg.bounding_box()
    assert box is not None
    # The seed's days run from 30 September to 8 October: nine days across the plot (the plot
    # leaves 34 px on the left and 40 on the right). Brush the first three days.
    left, width = box["x"] + 34, box["width"] - 74
    before = visit.ready_mark()
    page.mouse.move(left + 2, box["y"] + 60)
    page.mouse.down()
    page.mouse.move(left + width * 2 / 9, box["y"] + 60, steps=5)
    page.mouse.move(left + width * 3 / 9 - 4, box["y"] + 60, steps=5)
    page.mouse.up()
    visit.wait_ready(before)
    params = _url_params(visit)
    assert (params["date_from"], params["date_to"]) == ("2015-09-30", "2015-10-02")
    assert page.input_value("#f-date_from") == "2015-09-30"
    assert page.input_value("#f-date_to") == "2015-10-02"
    # Events overlapping those days: the cruise missiles and Suqur al-Jabal's depots (from
    # 30 September) and the airspace violations (the week up to 8 October).
    assert _listed(visit) == 3
    assert page.locator(".timeline-svg rect.selection").count() == 1
    visit.shot("explorer-brushed")
    assert visit.console_errors == []


def test_the_jeb_al_ahmar_advance_shows_its_claims_and_sources(visit: Visit) -> None:
    visit.open()
    _open_detail(visit, "Jeb al-Ahmar")
    detail = visit.page.locator("#detail")
    assert "SYR-20151008-01" in detail.locator("#detail-title").inner_text()
    text = detail.inner_text()
    assert "date precision: day" in text
    assert "geo precision 2" in text
    claims = detail.locator(".detail > .claims > article.claim")
    assert claims.count() == 3
    sources = claims.evaluate_all("els => els.map(e => e.dataset.source)")
    assert sources.count("Syrian military source") == 2
    assert "Syrian Observatory for Human Rights" in sources
    sohr = detail.locator("article.claim[data-source='Syrian Observatory for Human Rights']")
    assert "confirms" in sohr.inner_text()
    assert "via AFP" in sohr.inner_text()
    assert "most of the hilly region" in detail.inner_text()
    # Actors with their roles and status; the campaign's disputed claims; the history.
    actors = detail.locator("table.actors").inner_text()
    assert "Hezbollah" in actors and "initiator support" in actors and "reported" in actors
    campaign = detail.locator("section.campaign", has_text="Russian air campaign in Syria")
    assert "Disputes claim" in campaign.inner_text()
    assert "US Government" in campaign.inner_text()
    assert "version 1" in detail.locator("ol.revisions").inner_text()
    visit.shot("explorer-jeb-al-ahmar")
    assert visit.console_errors == []


def test_the_observatorys_at_least_13_appears_with_its_words(visit: Visit) -> None:
    visit.open()
    _open_detail(visit, "At least 13 regime fighters")
    claim = visit.page.locator("article.claim[data-source='Syrian Observatory for Human Rights']")
    figures = claim.locator("ul.figures li")
    regime = figures.filter(has_text="regime forces")
    assert regime.locator(".number").inner_text().startswith("13")
    assert regime.locator("q.words").inner_text() == "at least 13"
    assert "13 (13\u2013?)" in regime.inner_text()  # no upper bound: unknown, not 13
    assert "At least 13 regime fighters and 11 rebels were killed" in claim.inner_text()
    assert visit.console_errors == []


def test_a_shared_url_restores_the_view(visit: Visit) -> None:
    sahl = _event_ids(visit)["SYR-20151008-06"]
    visit.open(f"?admin1=Hama&q=villages&z=8&ll=35.4000,36.5000&interval=day&event={sahl}")
    page = visit.page
    page.wait_for_selector(f"#detail[data-loaded='{sahl}']")
    assert page.input_value("#f-admin1") == "Hama"
    assert page.input_value("#f-q") == "villages"
    assert page.input_value("#interval") == "day"
    assert _listed(visit) == 2  # Sahl al-Ghab's strikes, Al-Watan's villages
    assert "SYR-20151008-06" in page.locator("#detail-title").inner_text()
    # The map draws after its own request: waited for, as the list and the detail are (read at
    # once, it raced them: with the list's events kept, the list came first under load).
    page.wait_for_selector("#map[data-rendered]")
    # At zoom 8 the governorates' outlines are drawn from the shipped gazetteer file: Hama's,
    # and its neighbours Idlib and Latakia.
    page.wait_for_selector("#map[data-admin1]")
    drawn = set(page.get_attribute("#map", "data-admin1").split())
    assert {"SY-HM", "SY-ID", "SY-LA"} <= drawn
    visit.shot("explorer-admin1")
    params = _url_params(visit)
    # The same view (opening the detail narrows the map: Leaflet keeps its centre to a pixel).
    lat, lon = (float(v) for v in params["ll"].split(","))
    assert params["z"] == "8" and abs(lat - 35.4) < 0.01 and abs(lon - 36.5) < 0.01
    # Closing the event and going back restores it from history.
    page.click("#close-detail")
    assert "event" not in _url_params(visit)
    before = visit.ready_mark()
    page.go_back()
    visit.wait_ready(before)
    page.wait_for_selector(f"#detail[data-loaded='{sahl}']:not([hidden])")
    assert visit.console_errors == []


def test_the_csv_export_downloads_the_filtered_rows(visit: Visit) -> None:
    visit.open("?admin1=Hama")
    with visit.page.expect_download() as info:
        visit.page.click("#export-csv")
    download = info.value
    assert download.suggested_filename.endswith(".csv")
    path = download.path()
    assert path is not None
    with open(path, encoding="utf-8") as f:
        rows = list(csv.DictReader(io.StringIO(f.read())))
    assert {r["event_id_cnty"].split("-", 1)[1] for r in rows} == HAMA
    assert {r["admin1"] for r in rows} == {"Hama"}
    assert visit.console_errors == []


def test_keyboard_and_phone_width(visit: Visit) -> None:
    page = visit.page
    page.set_viewport_size({"width": 390, "height": 844})
    visit.open()
    # Nothing wider than the screen.
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= 390
    # Tab to the first event of the list and open it with Enter.
    page.focus("#event-list li.event button")
    page.keyboard.press("Enter")
    page.wait_for_selector("#detail[data-loaded]:not([hidden])")
    assert page.evaluate("document.activeElement.id") == "detail-title"
    visit.shot("explorer-phone")
    page.keyboard.press("Escape")
    assert page.locator("#detail").is_hidden()
    assert visit.console_errors == []
