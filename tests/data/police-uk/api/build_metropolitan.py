"""Writes the four made-up Metropolitan neighbourhoods around the 2014-08 sample crimes.

Run from the repository root: `python tests/data/police-uk/api/build_metropolitan.py`. The areas
are quarters of a box over the Greenwich peninsula, cut at 51.5017371 N and 0.0055371 E (seven
decimals, so no snap point lies on a cut), with wobbly outer edges. Their point counts differ on
purpose: GRN.1 has over a thousand (simplified before sending, then POSTed), grn-2 a few hundred
(POSTed as it is), GRN3 and GRN4 a handful (sent by GET). Some sample crimes lie outside them all.
"""

from __future__ import annotations

import json
import math
from pathlib import Path

HERE = Path(__file__).resolve().parent
WEST, EAST, SOUTH, NORTH = -0.016, 0.026, 51.489, 51.514
MID_LNG, MID_LAT = 0.0055371, 51.5017371
WOBBLE = 0.0004  # degrees, ~30-45 m

AREAS = (
    # id, name, (west, south, east, north), points per outer side, outer sides
    ("GRN.1", "Isle of Dogs North &amp; Canary Wharf", (WEST, MID_LAT, MID_LNG, NORTH), 600, "NW"),
    ("grn-2", "North Greenwich &amp; Blackwall", (MID_LNG, MID_LAT, EAST, NORTH), 130, "NE"),
    ("GRN3", "Millwall &amp; Cubitt Town", (WEST, SOUTH, MID_LNG, MID_LAT), 6, "SW"),
    ("GRN4", "Greenwich Peninsula", (MID_LNG, SOUTH, EAST, MID_LAT), 6, "SE"),
)


def wobble(t: float, n: int) -> float:
    # Calm near the corners, so neighbouring sides never cross.
    return WOBBLE * math.sin(t * math.pi) ** 2 * math.sin(t * math.pi * max(2, n // 20))


def ring(
    bounds: tuple[float, float, float, float], n: int, outer: str
) -> list[tuple[float, float]]:
    """Anticlockwise from the south-west corner; the outer sides wobble, the cuts stay straight."""
    west, south, east, north = bounds
    points: list[tuple[float, float]] = []

    def side(start: tuple[float, float], end: tuple[float, float], wavy: bool, normal: str) -> None:
        steps = n if wavy else 1
        for i in range(steps):
            t = i / steps
            lng = start[0] + (end[0] - start[0]) * t
            lat = start[1] + (end[1] - start[1]) * t
            if wavy and i > 0:
                if normal in "NS":
                    lat += wobble(t, n)
                else:
                    lng += wobble(t, n)
            points.append((lng, lat))

    side((west, south), (east, south), "S" in outer, "S")
    side((east, south), (east, north), "E" in outer, "E")
    side((east, north), (west, north), "N" in outer, "N")
    side((west, north), (west, south), "W" in outer, "W")
    points.append(points[0])
    return points


def noisy(value: float, i: int) -> str:
    # police.uk boundaries carry float noise, 6 to 13 decimals.
    return repr(round(value, 13 - i % 7) + 1e-13 * (i % 3))


def main() -> None:
    force = HERE / "metropolitan"
    force.mkdir(exist_ok=True)
    listing = []
    for code, name, bounds, n, outer in AREAS:
        listing.append({"id": code, "name": name})
        points = ring(bounds, n, outer)
        boundary = [
            {"latitude": noisy(lat, i), "longitude": noisy(lng, i)}
            for i, (lng, lat) in enumerate(points)
        ]
        folder = force / code
        folder.mkdir(exist_ok=True)
        (folder / "boundary.json").write_text(json.dumps(boundary, separators=(",", ":")))
        west, south, east, north = bounds
        details = {
            "id": code,
            "name": name,
            "description": f"<p>A made-up neighbourhood for Beat's tests ({name}).</p>",
            "population": "0",
            "url_force": "",
            "contact_details": {"telephone": "101"},
            "links": [],
            "centre": {
                "latitude": f"{(south + north) / 2:.6f}",
                "longitude": f"{(west + east) / 2:.6f}",
            },
            "locations": [],
        }
        (force / f"{code}.json").write_text(json.dumps(details, indent=1) + "\n")
    (force / "neighbourhoods.json").write_text(json.dumps(listing, indent=1) + "\n")


if __name__ == "__main__":
    main()
