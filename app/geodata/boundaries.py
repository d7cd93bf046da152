"""Country outlines from world-atlas 2.0.2 (Natural Earth 1:110m and 1:50m, public domain).

The TopoJSON files are the package's own, unchanged (`countries-110m.topojson`,
`countries-50m.topojson`): the source. `build(scale)` decodes one into a GeoJSON
FeatureCollection whose properties carry the ISO 3166-1 codes (world-atlas keeps only the
numeric code as the feature id; the alpha codes come from pycountry). The decoded files
(`countries-110m.geojson`, `countries-50m.geojson`) are shipped, so that serving them costs a
file read, not a decode (1-2 s for 1:50m); `python -m app.geodata.boundaries` rebuilds them and
`tests/maps/test_grid.py` holds them equal to a fresh build.
"""

from __future__ import annotations

import functools
from importlib.resources import files
from pathlib import Path
from typing import Any, Literal

import orjson
import pycountry

Scale = Literal["110m", "50m"]
Position = list[float]


def _read(scale: Scale) -> dict[str, Any]:
    data: dict[str, Any] = orjson.loads(
        (files("app.geodata") / f"countries-{scale}.topojson").read_bytes()
    )
    return data


def _decode_arcs(topology: dict[str, Any], digits: int) -> list[list[Position]]:
    """Absolute positions of every arc (TopoJSON arcs are quantized and delta-encoded)."""
    transform = topology.get("transform")
    arcs: list[list[Position]] = []
    for arc in topology["arcs"]:
        points: list[Position] = []
        if transform:
            (sx, sy), (tx, ty) = transform["scale"], transform["translate"]
            x = y = 0
            for dx, dy in arc:
                x += dx
                y += dy
                points.append([round(x * sx + tx, digits), round(y * sy + ty, digits)])
        else:
            points = [[round(p[0], digits), round(p[1], digits)] for p in arc]
        arcs.append(points)
    return arcs


def _ring(indexes: list[int], arcs: list[list[Position]]) -> list[Position]:
    ring: list[Position] = []
    for index in indexes:
        arc = arcs[index] if index >= 0 else arcs[~index][::-1]
        # Consecutive arcs share their end and start point.
        ring.extend(arc if not ring else arc[1:])
    return ring


def _geometry(geometry: dict[str, Any], arcs: list[list[Position]]) -> dict[str, Any] | None:
    kind = geometry.get("type")
    if kind == "Polygon":
        return {"type": kind, "coordinates": [_ring(r, arcs) for r in geometry["arcs"]]}
    if kind == "MultiPolygon":
        polygons = [[_ring(r, arcs) for r in p] for p in geometry["arcs"]]
        return {"type": kind, "coordinates": polygons}
    return None


def _codes(numeric: str | None) -> dict[str, str | None]:
    country = pycountry.countries.get(numeric=numeric) if numeric else None
    return {
        "iso_a2": country.alpha_2 if country else None,
        "iso_a3": country.alpha_3 if country else None,
        "iso_n3": numeric,
    }


def build(scale: Scale = "110m") -> dict[str, Any]:
    """Every country as a GeoJSON FeatureCollection (coordinates rounded to ~10 m)."""
    topology = _read(scale)
    arcs = _decode_arcs(topology, digits=4)
    features = []
    for geometry in topology["objects"]["countries"]["geometries"]:
        shape = _geometry(geometry, arcs)
        if shape is None:
            continue
        numeric = geometry.get("id")
        name = (geometry.get("properties") or {}).get("name")
        features.append(
            {
                "type": "Feature",
                "properties": {**_codes(numeric), "name": name},
                "geometry": shape,
            }
        )
    return {"type": "FeatureCollection", "features": features}


def _geojson_name(scale: Scale) -> str:
    return f"countries-{scale}.geojson"


@functools.cache
def countries_geojson(scale: Scale = "110m") -> bytes:
    """The shipped GeoJSON of `build(scale)`, read once per process."""
    return (files("app.geodata") / _geojson_name(scale)).read_bytes()


def countries(scale: Scale = "110m") -> dict[str, Any]:
    """Every country as a GeoJSON FeatureCollection (properties iso_a2, iso_a3, iso_n3, name)."""
    data: dict[str, Any] = orjson.loads(countries_geojson(scale))
    return data


def main() -> None:
    """Rebuild the shipped GeoJSON files from the TopoJSON sources."""
    folder = Path(str(files("app.geodata")))
    for scale in ("110m", "50m"):
        (folder / _geojson_name(scale)).write_bytes(orjson.dumps(build(scale)))


if __name__ == "__main__":
    main()


__all__ = ["build", "countries", "countries_geojson"]
