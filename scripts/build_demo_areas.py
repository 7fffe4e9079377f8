"""Build beat/demo_data/policeuk/ (a folder laid out like the police.uk API) from ONS ward files.

Run from the repository root: python scripts/build_demo_areas.py ../shared/data/boundaries/WD19CD
The City of London's 25 electoral wards stand in for its neighbourhoods in the demo and the tests.
police.uk boundaries are one ring of string lat/lng points, so a ward's largest part is kept
(only Castle Baynard has a second, a sliver on the river).
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

from shapely.geometry import shape

FORCE = "city-of-london"


def main(ward_dir: str) -> None:
    out = Path("beat/demo_data/policeuk")
    (out / FORCE).mkdir(parents=True, exist_ok=True)
    forces = [{"id": FORCE, "name": "City of London Police"}]
    (out / "forces.json").write_text(json.dumps(forces, indent=1) + "\n")
    force = {
        "id": FORCE,
        "name": "City of London Police",
        "description": (
            "Demo data: the City's 25 electoral wards stand in for its policing neighbourhoods."
        ),
        "url": "https://www.cityoflondon.police.uk/",
        "telephone": "101",
        "engagement_methods": [],
    }
    (out / f"{FORCE}.json").write_text(json.dumps(force, indent=1) + "\n")
    listing = []
    for path in sorted(Path(ward_dir).glob("*.geojsonl")):
        feature = json.loads(path.read_text())
        code, name = feature["properties"]["wd19cd"], feature["properties"]["wd19nm"]
        geom = shape(feature["geometry"])
        parts = list(getattr(geom, "geoms", [geom]))
        largest = max(parts, key=lambda p: p.area)
        ring = [
            {"latitude": f"{lat:.5f}", "longitude": f"{lng:.5f}"}
            for lng, lat in largest.exterior.coords
        ]
        centre = largest.representative_point()
        details = {
            "id": code,
            "name": name,
            "description": f"<p>The {name} ward of the City of London (ONS ward {code}).</p>",
            "population": "0",
            "url_force": "",
            "contact_details": {"telephone": "101"},
            "links": [],
            "centre": {"latitude": f"{centre.y:.5f}", "longitude": f"{centre.x:.5f}"},
            "locations": [],
        }
        listing.append({"id": code, "name": name})
        (out / FORCE / f"{code}.json").write_text(json.dumps(details, indent=1) + "\n")
        (out / FORCE / code).mkdir(exist_ok=True)
        (out / FORCE / code / "boundary.json").write_text(json.dumps(ring) + "\n")
    (out / FORCE / "neighbourhoods.json").write_text(json.dumps(listing, indent=1) + "\n")
    print(f"wrote {len(listing)} neighbourhoods to {out}")


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else "../shared/data/boundaries/WD19CD")
