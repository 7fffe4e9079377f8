"""What the police.uk tests share: a client for the local server, and independent answers."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import aiohttp
from shapely.geometry import Point, Polygon

from beat.policeuk.client import PoliceUkClient, TokenBucket
from tests.fakes.policeuk import CRIMES, DATA

METROPOLITAN = "metropolitan"
METROPOLITAN_AREAS = ("GRN.1", "GRN3", "GRN4", "grn-2")
SAMPLE_MONTH = "2014-08"
# Fast enough for tests: no waiting for the 15/s budget (the fake is told the same), short backoff.
FAST = {"rate": 1000.0, "burst": 1000}


def fast_client(session: aiohttp.ClientSession, base_url: str, **options: Any) -> PoliceUkClient:
    options.setdefault("bucket", TokenBucket(1000, 1000))
    options.setdefault("backoff", 0.01)
    return PoliceUkClient(session, base_url, **options)


def sample_crimes() -> dict[int, dict[str, Any]]:
    """The two real 2014-08 responses, read here without any Beat code, by id."""
    merged: dict[int, dict[str, Any]] = {}
    for file in CRIMES[SAMPLE_MONTH]:
        for record in json.loads(file.read_text()):
            merged.setdefault(record["id"], record)
    return merged


def boundary(code: str, force: str = METROPOLITAN) -> Polygon:
    """A neighbourhood's boundary straight from its police.uk document."""
    points = json.loads((DATA / "api" / force / code / "boundary.json").read_text())
    return Polygon([(float(p["longitude"]), float(p["latitude"])) for p in points])


def point(record: dict[str, Any]) -> Point:
    return Point(float(record["location"]["longitude"]), float(record["location"]["latitude"]))


def ids_inside(area: Polygon) -> set[int]:
    return {i for i, r in sample_crimes().items() if area.intersects(point(r))}


def copy_api_folder(target: Path) -> Path:
    """The tests' police.uk documents in a folder a test may change."""
    import shutil

    shutil.copytree(DATA / "api", target)
    return target
