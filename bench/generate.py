"""A synthetic ACLED file (current 31-column layout) with the skew of the real data.

    python bench/generate.py --rows 1000000 --seed 42 --out /tmp/acled-1m.csv

Deterministic for a given --seed and --rows. What it imitates:
- a few countries hold most events (Zipf over ~40 countries), and within a country a few
  actors, places and sources do (Zipf again);
- dates cluster: each country has bursts (offensives, protest waves) over a quiet background;
- fatalities are heavy-tailed: protests and most strategic developments have none, violent
  events are mostly 0-3 with a Pareto tail into the hundreds;
- coordinates cluster around each country's places; geo_precision 2/3 events sit on a
  representative town, as ACLED records them;
- ';'-separated associated actors, sources and tags, numeric inter codes, Unix timestamps.
The CLI (--rows, --seed, --out) is stable: other benchmarks reuse this script.
"""

from __future__ import annotations

import argparse
import bisect
import csv
import datetime as dt
import itertools
import random
import sys
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from app.acled.format import COLUMNS  # noqa: E402  (ACLED's layout: one list, in the app)

# name, ISO numeric, ISO alpha-3, ACLED region, centre latitude, longitude, spread (degrees)
COUNTRIES = [
    ("Ukraine", 804, "UKR", "Europe", 48.4, 31.2, 3.0),
    ("Syria", 760, "SYR", "Middle East", 35.0, 38.5, 1.5),
    ("India", 356, "IND", "South Asia", 22.0, 79.0, 6.0),
    ("Myanmar", 104, "MMR", "Southeast Asia", 20.0, 96.0, 3.5),
    ("Mexico", 484, "MEX", "Central America", 22.0, -101.0, 5.0),
    ("Yemen", 887, "YEM", "Middle East", 15.5, 47.5, 1.8),
    ("Pakistan", 586, "PAK", "South Asia", 30.0, 70.0, 4.0),
    ("Nigeria", 566, "NGA", "Western Africa", 9.0, 8.0, 3.5),
    ("Democratic Republic of Congo", 180, "COD", "Middle Africa", -2.5, 23.5, 4.5),
    ("Brazil", 76, "BRA", "South America", -12.0, -50.0, 8.0),
    ("United States", 840, "USA", "North America", 39.0, -96.0, 10.0),
    ("Afghanistan", 4, "AFG", "Caucasus and Central Asia", 34.0, 66.0, 3.0),
    ("Iraq", 368, "IRQ", "Middle East", 33.0, 44.0, 2.5),
    ("Somalia", 706, "SOM", "Eastern Africa", 5.0, 46.0, 3.0),
    ("Sudan", 729, "SDN", "Northern Africa", 14.0, 30.0, 4.0),
    ("Colombia", 170, "COL", "South America", 4.5, -74.0, 3.0),
    ("Philippines", 608, "PHL", "Southeast Asia", 12.0, 122.0, 3.5),
    ("Burkina Faso", 854, "BFA", "Western Africa", 12.3, -1.5, 2.0),
    ("Mali", 466, "MLI", "Western Africa", 15.0, -3.0, 3.0),
    ("Ethiopia", 231, "ETH", "Eastern Africa", 9.0, 39.5, 3.5),
    ("Cameroon", 120, "CMR", "Middle Africa", 6.0, 12.5, 2.5),
    ("Libya", 434, "LBY", "Northern Africa", 29.0, 17.0, 4.0),
    ("Lebanon", 422, "LBN", "Middle East", 33.9, 35.8, 0.4),
    ("Palestine", 275, "PSE", "Middle East", 31.9, 35.2, 0.3),
    ("Israel", 376, "ISR", "Middle East", 31.5, 34.9, 0.6),
    ("Turkey", 792, "TUR", "Middle East", 39.0, 35.0, 3.0),
    ("Iran", 364, "IRN", "Middle East", 32.5, 53.5, 4.0),
    ("Bangladesh", 50, "BGD", "South Asia", 23.7, 90.3, 1.2),
    ("Kenya", 404, "KEN", "Eastern Africa", 0.5, 37.5, 2.5),
    ("South Sudan", 728, "SSD", "Eastern Africa", 7.5, 30.5, 2.5),
    ("Mozambique", 508, "MOZ", "Southern Africa", -18.0, 35.5, 4.0),
    ("Venezuela", 862, "VEN", "South America", 7.5, -66.0, 3.0),
    ("France", 250, "FRA", "Europe", 46.5, 2.5, 2.5),
    ("Russia", 643, "RUS", "Europe", 55.5, 45.0, 8.0),
    ("Haiti", 332, "HTI", "Caribbean", 18.9, -72.6, 0.5),
    ("Uganda", 800, "UGA", "Eastern Africa", 1.5, 32.5, 1.8),
    ("Bolivia", 68, "BOL", "South America", -17.0, -64.5, 3.0),
    ("Niger", 562, "NER", "Western Africa", 16.0, 8.5, 4.0),
    ("Chile", 152, "CHL", "South America", -33.0, -71.0, 4.0),
    ("Bulgaria", 100, "BGR", "Europe", 42.7, 25.3, 1.2),
]

# event_type, sub_event_type, disorder_type, weight, (inter1 choices), (inter2 choices), violent
EVENT_KINDS = [
    ("Protests", "Peaceful protest", "Demonstrations", 40.0, (6,), (0,), False),
    ("Protests", "Protest with intervention", "Demonstrations", 2.0, (6,), (1,), False),
    ("Protests", "Excessive force against protesters", "Political violence", 0.3, (1,), (6,), True),
    ("Riots", "Violent demonstration", "Demonstrations", 3.0, (5,), (0, 1, 5), False),
    ("Riots", "Mob violence", "Political violence", 3.0, (5,), (7, 5), True),
    ("Battles", "Armed clash", "Political violence", 11.0, (1, 2, 3), (2, 3, 4), True),
    ("Battles", "Government regains territory", "Political violence", 0.3, (1,), (2,), True),
    ("Battles", "Non-state actor overtakes territory", "Political violence", 0.3, (2,), (1,), True),
    (
        "Explosions/Remote violence",
        "Shelling/artillery/missile attack",
        "Political violence",
        8.0,
        (1, 8),
        (0, 2, 7),
        True,
    ),
    (
        "Explosions/Remote violence",
        "Air/drone strike",
        "Political violence",
        3.0,
        (1, 8),
        (0, 2, 7),
        True,
    ),
    (
        "Explosions/Remote violence",
        "Remote explosive/landmine/IED",
        "Political violence",
        2.0,
        (2, 3),
        (1, 7),
        True,
    ),
    ("Explosions/Remote violence", "Grenade", "Political violence", 0.3, (3,), (7,), True),
    ("Explosions/Remote violence", "Suicide bomb", "Political violence", 0.1, (2,), (7, 1), True),
    ("Explosions/Remote violence", "Chemical weapon", "Political violence", 0.01, (1,), (7,), True),
    ("Violence against civilians", "Attack", "Political violence", 9.0, (3, 4, 1, 2), (7,), True),
    (
        "Violence against civilians",
        "Abduction/forced disappearance",
        "Political violence",
        1.5,
        (2, 3),
        (7,),
        True,
    ),
    (
        "Violence against civilians",
        "Sexual violence",
        "Political violence",
        0.3,
        (3, 1),
        (7,),
        True,
    ),
    (
        "Strategic developments",
        "Looting/property destruction",
        "Strategic developments",
        2.5,
        (3, 1),
        (7,),
        False,
    ),
    ("Strategic developments", "Arrests", "Strategic developments", 1.5, (1,), (6, 7), False),
    ("Strategic developments", "Other", "Strategic developments", 1.5, (1, 2), (0,), False),
    (
        "Strategic developments",
        "Change to group/activity",
        "Strategic developments",
        1.0,
        (2, 1),
        (0,),
        False,
    ),
    (
        "Strategic developments",
        "Disrupted weapons use",
        "Strategic developments",
        0.6,
        (1,),
        (2,),
        False,
    ),
    ("Strategic developments", "Agreement", "Strategic developments", 0.1, (1, 2), (2,), False),
    (
        "Strategic developments",
        "Non-violent transfer of territory",
        "Strategic developments",
        0.2,
        (2, 1),
        (0,),
        False,
    ),
    (
        "Strategic developments",
        "Headquarters or base established",
        "Strategic developments",
        0.1,
        (2,),
        (0,),
        False,
    ),
]

SYLLABLES = [
    "ka", "ra", "mi", "do", "sa", "li", "bu", "ne", "to", "al", "ha", "ma", "zi", "ko", "ta",
    "ru", "el", "an", "is", "or", "ya", "qu", "be", "di", "fa", "go", "lu", "na", "pe", "sh",
]  # fmt: skip
GROUP_WORDS = [
    "Liberation", "Front", "Movement", "Army", "Brigade", "Council", "Union", "Defence",
    "Resistance", "Revolutionary", "Popular", "National", "Islamic", "Democratic", "Forces",
]  # fmt: skip
FILLER = (
    "Local sources reported the incident and the situation remained tense in the area afterwards. "
    "Residents said that the security forces deployed reinforcements to the surrounding villages. "
    "The number of casualties could not be independently verified by the reporting outlets. "
)
SOURCE_SCALES = [
    ("National", 50),
    ("Subnational", 15),
    ("Other", 9),
    ("Local partner-Other", 4),
    ("New media", 3),
    ("International", 3),
    ("Subnational-National", 3),
    ("Regional", 2),
    ("National-International", 1),
]
START = dt.date(2018, 1, 1)
DAYS = (dt.date(2023, 12, 31) - START).days + 1


def zipf_weights(n: int, s: float) -> list[float]:
    return [1.0 / (k**s) for k in range(1, n + 1)]


class Picker:
    """Weighted choice over a fixed population in O(log n), from one shared Random."""

    def __init__(self, items: list[object], weights: list[float], rng: random.Random) -> None:
        self.items = items
        self.cum = list(itertools.accumulate(weights))
        self.total = self.cum[-1]
        self.rng = rng

    def __call__(self) -> object:
        return self.items[bisect.bisect_right(self.cum, self.rng.random() * self.total)]


def word(rng: random.Random, parts: int) -> str:
    return "".join(rng.choice(SYLLABLES) for _ in range(parts)).capitalize()


@dataclass
class Place:
    admin1: str
    admin2: str
    admin3: str
    location: str
    latitude: float
    longitude: float


@dataclass
class Country:
    name: str
    iso: int
    iso3: str
    region: str
    places: Picker
    actors: dict[int, Picker]
    sources: Picker
    bursts: list[tuple[int, int, float]]
    serial: itertools.count[int] = field(default_factory=lambda: itertools.count(1))


def build_country(
    spec: tuple[str, int, str, str, float, float, float], rng: random.Random
) -> Country:
    name, iso, iso3, region, lat0, lon0, spread = spec
    admin1s = [f"{word(rng, 2)}" for _ in range(rng.randint(6, 18))]
    places: list[object] = []
    for a1 in admin1s:
        # Each province sits somewhere in the country; its towns cluster around it.
        c_lat = lat0 + rng.gauss(0, spread / 2)
        c_lon = lon0 + rng.gauss(0, spread / 2)
        for _ in range(rng.randint(2, 6)):
            a2 = word(rng, 2)
            d_lat, d_lon = c_lat + rng.gauss(0, spread / 8), c_lon + rng.gauss(0, spread / 8)
            for _ in range(rng.randint(3, 25)):
                lat = max(-89.9, min(89.9, d_lat + rng.gauss(0, spread / 30)))
                lon = max(-179.9, min(179.9, d_lon + rng.gauss(0, spread / 30)))
                places.append(
                    Place(a1, a2, word(rng, 2), word(rng, 3), round(lat, 4), round(lon, 4))
                )
    rng.shuffle(places)
    place_picker = Picker(places, zipf_weights(len(places), 1.05), rng)

    short = name.split()[0]
    actors: dict[int, Picker] = {}
    by_type: dict[int, list[object]] = {
        1: [
            f"Military Forces of {name} (2000-)",
            f"Police Forces of {name} (2000-)",
            f"Military Forces of {name} (2000-) Air Force",
            f"Military Forces of {name} (2000-) Special Forces",
        ],
        2: [
            f"{word(rng, 2)} {rng.choice(GROUP_WORDS)} {rng.choice(GROUP_WORDS)}" for _ in range(12)
        ],
        3: [f"Unidentified Armed Group ({name})"]
        + [f"{word(rng, 2)} Militia ({name})" for _ in range(15)],
        4: [f"{word(rng, 2)} Ethnic Militia ({name})" for _ in range(10)]
        + [f"{word(rng, 2)} Communal Militia ({name})" for _ in range(10)],
        5: [f"Rioters ({name})"],
        6: [f"Protesters ({name})"],
        7: [f"Civilians ({name})"],
        8: [
            "Military Forces of Russia (2000-)",
            "Military Forces of the United States (2021-)",
            "Military Forces of Turkey (2016-)",
            f"UN: United Nations Mission in {short}",
        ],
    }
    for inter, names in by_type.items():
        actors[inter] = Picker(names, zipf_weights(len(names), 1.3), rng)
    outlets: list[object] = [
        f"{word(rng, 2)} {rng.choice(['Times', 'News', 'Post', 'Daily', 'Radio', 'TV'])}"
        for _ in range(60)
    ]
    outlets += ["Reuters", "AFP", "Associated Press", "BBC News", "Al Jazeera", "Twitter"]
    sources = Picker(outlets, zipf_weights(len(outlets), 1.1), rng)
    bursts = []
    for _ in range(rng.randint(3, 12)):
        center = rng.randrange(DAYS)
        bursts.append((center, rng.randint(2, 30), rng.paretovariate(1.5)))
    return Country(name, iso, iso3, region, place_picker, actors, sources, bursts)


def pick_day(country: Country, rng: random.Random) -> int:
    """60% of events fall in a burst (weighted by its intensity), 40% in the background."""
    if rng.random() < 0.6:
        total = sum(b[2] for b in country.bursts)
        r = rng.random() * total
        for center, width, weight in country.bursts:
            r -= weight
            if r <= 0:
                return min(DAYS - 1, max(0, int(center + rng.gauss(0, width))))
    return rng.randrange(DAYS)


def fatalities(violent: bool, rng: random.Random) -> int:
    if not violent:
        return 0 if rng.random() < 0.995 else 1
    r = rng.random()
    if r < 0.55:
        return 0
    if r < 0.85:
        return rng.randint(1, 3)
    return min(1500, int(rng.paretovariate(1.3) * 2))


def generate(rows: int, seed: int, out: Path) -> None:
    rng = random.Random(seed)
    countries = [build_country(spec, rng) for spec in COUNTRIES]
    country_pick = Picker(list(countries), zipf_weights(len(countries), 1.1), rng)
    kind_pick = Picker(list(EVENT_KINDS), [k[3] for k in EVENT_KINDS], rng)
    scale_pick = Picker([s for s, _ in SOURCE_SCALES], [w for _, w in SOURCE_SCALES], rng)
    base_ts = int(dt.datetime(2018, 1, 1, tzinfo=dt.UTC).timestamp())

    with out.open("w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh, lineterminator="\n")
        writer.writerow(COLUMNS)
        for _ in range(rows):
            c: Country = country_pick()
            etype, sub, disorder, _w, i1s, i2s, violent = kind_pick()
            inter1 = rng.choice(i1s)
            inter2 = rng.choice(i2s)
            actor1 = c.actors[inter1]()
            actor2 = c.actors[inter2]() if inter2 else ""
            assoc1 = ""
            if rng.random() < 0.18:
                assoc1 = "; ".join(
                    dict.fromkeys(
                        str(c.actors[rng.choice((2, 3, 4))]()) for _ in range(rng.randint(1, 3))
                    )
                )
            assoc2 = str(c.actors[4]()) if inter2 and rng.random() < 0.05 else ""
            interaction = (
                inter1 * 10 if not inter2 else min(inter1, inter2) * 10 + max(inter1, inter2)
            )
            day = pick_day(c, rng)
            date = START + dt.timedelta(days=day)
            p: Place = c.places()
            geo = 1 if rng.random() < 0.76 else (2 if rng.random() < 0.9 else 3)
            tp = 1 if rng.random() < 0.94 else (2 if rng.random() < 0.95 else 3)
            n_src = 1 if rng.random() < 0.75 else rng.randint(2, 4)
            srcs = "; ".join(dict.fromkeys(str(c.sources()) for _ in range(n_src)))
            fat = fatalities(violent, rng)
            civ = "Civilians targeted" if inter2 == 7 and violent else ""
            tags = ""
            if etype == "Protests":
                tags = (
                    "crowd size=no report"
                    if rng.random() < 0.7
                    else f"crowd size=around {rng.choice((20, 50, 100, 300, 1000))}"
                )
            who = f"{actor1} and {actor2}" if actor2 else actor1
            notes = (
                f"On {date.day} {date:%B %Y}, {who} were involved in a {sub.lower()} "
                f"in {p.location} ({p.admin2}, {p.admin1}). "
            )
            # ACLED notes average ~260 characters.
            notes += FILLER[: rng.randint(20, 220)]
            if fat:
                notes += f" {fat} fatalities reported."
            ts = base_ts + day * 86400 + rng.randint(86400, 86400 * 14)
            writer.writerow(
                (
                    f"{c.iso3}{next(c.serial)}",
                    date.isoformat(),
                    date.year,
                    tp,
                    disorder,
                    etype,
                    sub,
                    actor1,
                    assoc1,
                    inter1,
                    actor2,
                    assoc2,
                    inter2,
                    interaction,
                    civ,
                    c.iso,
                    c.region,
                    c.name,
                    p.admin1,
                    p.admin2,
                    p.admin3,
                    p.location,
                    f"{p.latitude:.4f}",
                    f"{p.longitude:.4f}",
                    geo,
                    srcs,
                    scale_pick(),
                    notes,
                    fat,
                    tags,
                    ts,
                )
            )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--rows", type=int, default=100_000, help="number of events (default 100000)"
    )
    parser.add_argument("--seed", type=int, default=42, help="random seed (default 42)")
    parser.add_argument("--out", type=Path, required=True, help="output CSV path")
    args = parser.parse_args(argv)
    generate(args.rows, args.seed, args.out)
    print(f"wrote {args.rows} rows to {args.out}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
