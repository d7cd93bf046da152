"""A realistic ACLED/UCDP overlap built from real UCDP Syria rows, with its known truth.

UCDP's Syria file (2016-01..2019-11) and ACLED's test file (2022, no Syria overlap) share no
incident, so the linking is measured on ACLED-coded copies of a seeded random sample of real
UCDP events, made with the differences the two datasets show for one incident:

- the day moved by one within a day's precision, or coded to the week (ACLED time_precision 2)
  up to three days away;
- coordinates moved 0-8 km (ACLED places at the nearest named town), some coded at a district
  (geo_precision 2);
- actors named as ACLED names them ("Military Forces of Syria (2000-)" for "Government of
  Syria", "Islamic State (Syria)" for "IS"), admin1 spelled ACLED's way ("Idleb", "Hama");
- ACLED's event types for UCDP's type_of_violence, and a fatality count that differs (x0.6 to
  x1.3 of UCDP's best).

Beside them, near misses that must not be linked: copies of other real UCDP events at the
same place two to three weeks later ("same place, other week"), and on the same day 25-60 km
away ("same day, other town"); and, in the UCDP slice, every real UCDP event within 2 days
and 15 km of a sampled one (UCDP's own neighbours, the matcher's real confounders).

`build(seed, n)` returns both CSV files' text and the truth; `python -m tests.links.overlap
OUT_DIR` writes them. Data: UCDP GED (CC BY 4.0; Sundberg & Melander 2013).
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import math
import random
import sys
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path

from app.acled.format import COLUMNS as ACLED_COLUMNS
from app.links.matching import haversine_km

UCDP_SYRIA = "ucdp/ged-syria-2016-01-to-2019-11.csv"
# UCDP's own events this close (and within two days) to a sampled one join the slice.
NEIGHBOUR_KM = 15

ADMIN1 = {
    "Aleppo Governorate": "Aleppo",
    "Rif Dimashq Governorate": "Rural Damascus",
    "Deir ez Zor Governorate": "Deir-ez-Zor",
    "Idlib Governorate": "Idleb",
    "Ar Raqqah Governorate": "Ar-Raqqa",
    "Hamah Governorate": "Hama",
    "Homs Governorate": "Homs",
    "Daraa Governorate": "Dar'a",
    "Damascus Governorate": "Damascus",
    "Al Hasakah Governorate": "Al-Hasakeh",
    "Latakia Governorate": "Lattakia",
    "Quneitra Governorate": "Quneitra",
    "As Suwayda Governorate": "As-Sweida",
    "Tartus Governorate": "Tartous",
}
# UCDP side name -> (ACLED actor name, ACLED inter code).
ACTORS = {
    "Government of Syria": ("Military Forces of Syria (2000-)", 1),
    "Syrian insurgents": ("Opposition Rebels (Syria)", 2),
    "IS": ("Islamic State (Syria)", 2),
    "SDF": ("QSD: Syrian Democratic Forces", 2),
    "Civilians": ("Civilians (Syria)", 7),
    "HTS": ("Hayat Tahrir al Sham", 2),
    "SNA": ("Syrian National Army", 2),
    "Government of Turkey": ("Military Forces of Turkey (2016-)", 8),
    "Government of Russia (Soviet Union)": ("Military Forces of Russia (2000-)", 8),
    "Government of Iraq": ("Military Forces of Iraq (2014-)", 8),
    "Government of Israel": ("Military Forces of Israel (1948-)", 8),
}


# "Eastern", "Western", "Northern", "Southern": how nearby Syrian villages are told apart.
_OTHER_TOWN = ("Sharqi", "Gharbi", "Shamali", "Janubi")


@dataclass
class Overlap:
    ucdp_csv: str
    acled_csv: str
    # ACLED event_id_cnty -> the UCDP id it copies (true links only).
    truth: dict[str, str]
    distractors: list[str]
    ucdp_ids: list[str]
    date_from: dt.date
    date_to: dt.date


def _acled_actor(side: str) -> tuple[str, int]:
    first = side.split(",")[0].strip()
    if first in ACTORS:
        return ACTORS[first]
    return first.replace("-", " ").replace("  ", " "), 2


def _move(lat: float, lon: float, km: float, bearing: float) -> tuple[float, float]:
    """A point `km` away on `bearing` (radians), flat-earth: fine at these distances."""
    dlat = km * math.cos(bearing) / 111.32
    dlon = km * math.sin(bearing) / (111.32 * math.cos(math.radians(lat)))
    return round(lat + dlat, 5), round(lon + dlon, 5)


def _acled_row(
    rng: random.Random, u: dict[str, str], event_id: str, day: dt.date, lat: float, lon: float
) -> dict[str, object]:
    tov = u["type_of_violence"]
    if tov == "3":
        event_type, sub = "Violence against civilians", "Attack"
    elif tov == "1" and rng.random() < 0.5:
        event_type, sub = "Explosions/Remote violence", "Shelling/artillery/missile attack"
    else:
        event_type, sub = "Battles", "Armed clash"
    actor1, inter1 = _acled_actor(u["side_a"])
    actor2, inter2 = _acled_actor(u["side_b"])
    best = int(u["best"])
    deaths = max(0, round(best * rng.uniform(0.6, 1.3)))
    return {
        "event_id_cnty": event_id,
        "event_date": day.isoformat(),
        "year": day.year,
        "time_precision": 1,
        "disorder_type": "Political violence",
        "event_type": event_type,
        "sub_event_type": sub,
        "actor1": actor1,
        "assoc_actor_1": "",
        "inter1": inter1,
        "actor2": actor2,
        "assoc_actor_2": "",
        "inter2": inter2,
        "interaction": int(f"{min(inter1, inter2)}{max(inter1, inter2)}"),
        "civilian_targeting": "Civilians targeted" if tov == "3" else "",
        "iso": 760,
        "region": "Middle East",
        "country": "Syria",
        "admin1": ADMIN1.get(u["adm_1"], u["adm_1"].replace(" Governorate", "")),
        "admin2": u["adm_2"].replace(" district", ""),
        "admin3": "",
        "location": u["where_coordinates"].split(" ")[0],
        "latitude": lat,
        "longitude": lon,
        "geo_precision": 1,
        "source": "Syrian Observatory for Human Rights",
        "source_scale": "National",
        "notes": f"On {day.isoformat()}, {actor1} and {actor2} clashed near "
        f"{u['where_coordinates']}. [copy of UCDP {u['id']} for the link tests]",
        "fatalities": deaths,
        "tags": "",
        "timestamp": 1700000000,
    }


def build(rows: list[dict[str, str]], seed: int = 12, n: int = 100) -> Overlap:
    """The fixture from the UCDP file's rows (all of them: sampling needs the whole file)."""
    rng = random.Random(seed)
    precise = [
        r
        for r in rows
        if r["date_prec"] == "1"
        and r["where_prec"] in {"1", "2"}
        and r["date_start"][:10] == r["date_end"][:10]
        and r["adm_1"]
    ]
    sample = rng.sample(precise, n)
    by_day: dict[str, list[dict[str, str]]] = defaultdict(list)
    for r in rows:
        by_day[r["date_start"][:10]].append(r)

    ucdp: dict[str, dict[str, str]] = {}
    for u in sample:
        ucdp[u["id"]] = u
        day = dt.date.fromisoformat(u["date_start"][:10])
        for k in range(-2, 3):
            for r in by_day.get((day + dt.timedelta(days=k)).isoformat(), ()):
                km = haversine_km(
                    float(u["latitude"]),
                    float(u["longitude"]),
                    float(r["latitude"]),
                    float(r["longitude"]),
                )
                if km <= NEIGHBOUR_KM:
                    ucdp.setdefault(r["id"], r)

    acled: list[dict[str, object]] = []
    truth: dict[str, str] = {}
    for i, u in enumerate(sample, start=1):
        day = dt.date.fromisoformat(u["date_start"][:10])
        weekly = rng.random() < 0.15
        shift = rng.randint(-3, 3) if weekly else rng.choice((-1, 0, 0, 0, 0, 1))
        lat, lon = _move(
            float(u["latitude"]),
            float(u["longitude"]),
            rng.uniform(0, 8),
            rng.uniform(0, 2 * math.pi),
        )
        row = _acled_row(rng, u, f"SYR9{i:04d}", day + dt.timedelta(days=shift), lat, lon)
        if weekly:
            row["time_precision"] = 2
        if rng.random() < 0.3:
            row["geo_precision"] = 2
        acled.append(row)
        truth[str(row["event_id_cnty"])] = u["id"]

    distractors: list[str] = []
    others = [r for r in precise if r["id"] not in ucdp]
    for j, u in enumerate(rng.sample(others, n // 2), start=1):
        # A real UCDP event not in the slice, copied to a place/time no slice event shares.
        day = dt.date.fromisoformat(u["date_start"][:10])
        anchor = sample[j % len(sample)]
        a_day = dt.date.fromisoformat(anchor["date_start"][:10])
        lat0, lon0 = float(anchor["latitude"]), float(anchor["longitude"])
        if j % 2:
            # same place, other week
            day = a_day + dt.timedelta(days=rng.randint(14, 21) * rng.choice((-1, 1)))
            lat, lon = _move(lat0, lon0, rng.uniform(0, 3), rng.uniform(0, 2 * math.pi))
        else:
            # same day, other town
            day = a_day
            lat, lon = _move(lat0, lon0, rng.uniform(25, 60), rng.uniform(0, 2 * math.pi))
        u = {**anchor, "side_a": u["side_a"], "side_b": u["side_b"], "best": u["best"]}
        row = _acled_row(rng, u, f"SYR8{j:04d}", day, lat, lon)
        if not j % 2:
            # Another town: its own name (ACLED finds a place by its name, and a shared name
            # would put it back at the anchor's coordinates).
            row["location"] = f"{row['location']} {rng.choice(_OTHER_TOWN)}"
        acled.append(row)
        distractors.append(str(row["event_id_cnty"]))

    # A distractor may by chance fall within a window of a real neighbour in the slice: then
    # it is not a near miss but a plausible match, and is dropped from the fixture.
    slice_rows = list(ucdp.values())
    kept: list[dict[str, object]] = []
    for row in acled:
        if row["event_id_cnty"] in distractors and _near_any(row, slice_rows):
            distractors.remove(str(row["event_id_cnty"]))
            continue
        kept.append(row)

    header = list(rows[0].keys())
    u_out = io.StringIO()
    w = csv.DictWriter(u_out, fieldnames=header, lineterminator="\n")
    w.writeheader()
    for r in sorted(ucdp.values(), key=lambda r: int(r["id"])):
        w.writerow(r)
    a_out = io.StringIO()
    aw = csv.DictWriter(a_out, fieldnames=list(ACLED_COLUMNS), lineterminator="\n")
    aw.writeheader()
    for row in kept:
        aw.writerow(row)
    days = [dt.date.fromisoformat(r["date_start"][:10]) for r in ucdp.values()]
    days += [dt.date.fromisoformat(str(r["event_date"])) for r in kept]
    return Overlap(
        ucdp_csv=u_out.getvalue(),
        acled_csv=a_out.getvalue(),
        truth=truth,
        distractors=distractors,
        ucdp_ids=sorted(ucdp),
        date_from=min(days) - dt.timedelta(days=7),
        date_to=max(days) + dt.timedelta(days=7),
    )


def _near_any(row: dict[str, object], slice_rows: list[dict[str, str]]) -> bool:
    """Within three days and 40 km of an event of the slice (a month of one dated to the week
    or month, 100 km of one located only at a district or province), where it could be the same
    incident."""
    day = dt.date.fromisoformat(str(row["event_date"]))
    lat, lon = float(str(row["latitude"])), float(str(row["longitude"]))
    for r in slice_rows:
        gap = abs((dt.date.fromisoformat(r["date_start"][:10]) - day).days)
        reach = 40 if r["where_prec"] in {"1", "2"} else 100
        days = 3 if r["date_prec"] in {"1", "2"} else 31
        if (
            gap <= days
            and haversine_km(lat, lon, float(r["latitude"]), float(r["longitude"])) <= reach
        ):
            return True
    return False


def read_rows(path: Path) -> list[dict[str, str]]:
    with path.open(newline="", encoding="utf-8") as fh:
        return list(csv.DictReader(fh))


def write(overlap: Overlap, out: Path) -> tuple[Path, Path]:
    out.mkdir(parents=True, exist_ok=True)
    u, a = out / "ucdp-slice.csv", out / "acled-copies.csv"
    u.write_text(overlap.ucdp_csv, encoding="utf-8")
    a.write_text(overlap.acled_csv, encoding="utf-8")
    return u, a


if __name__ == "__main__":  # pragma: no cover
    from tests.conftest import SHARED_DATA

    target = Path(sys.argv[1] if len(sys.argv) > 1 else "overlap-fixture")
    built = build(read_rows(SHARED_DATA / UCDP_SYRIA))
    paths = write(built, target)
    print(
        f"{paths[0]}: {len(built.ucdp_ids)} UCDP events; {paths[1]}: {len(built.truth)} copies, "
        f"{len(built.distractors)} near misses"
    )


def score(overlap: Overlap, pairs: list[tuple[str, str]]) -> tuple[float, float, int]:
    """(precision, recall, true positives) of linked natural-key pairs against the truth."""
    expected = {(f"acled/{a}", f"ucdp/{u}") for a, u in overlap.truth.items()}
    got = set()
    for k1, k2 in pairs:
        a, u = (k1, k2) if k1.startswith("acled/") else (k2, k1)
        got.add((a, u))
    tp = len(got & expected)
    precision = tp / len(got) if got else 0.0
    recall = tp / len(expected) if expected else 0.0
    return precision, recall, tp
