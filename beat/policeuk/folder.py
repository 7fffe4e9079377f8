"""A folder laid out like the police.uk API, each path with `.json` appended."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any
from urllib.parse import quote

import shapely
from shapely.geometry.base import BaseGeometry

from beat.errors import SourceError, SourceMissing


def _segment(part: str) -> str:
    # Ids are free-form per force; never let one climb out of the folder.
    encoded = quote(part, safe="-_.~ ")
    if encoded in {"", ".", ".."}:
        raise SourceError(f"unusable path segment {part!r}")
    return encoded


class FolderSource:
    """Reads `{root}/{a}/{b}.json` for the API path `/{a}/{b}`, so the demo and tests run offline.

    The layout, every file a police.uk response saved as it came:

        forces.json, {force}.json, {force}/neighbourhoods.json
        {force}/{id}.json, {force}/{id}/boundary.json
        {force}/{id}/priorities.json, {force}/{id}/events.json   (optional: none if absent)
        crime-last-updated.json, crimes-street-dates.json
        crimes-street/{category}/{YYYY-MM}.json                 a street-level crimes response
        crimes-street/{category}/{YYYY-MM}/*.json               or several, merged by their `id`

    The API answers a polygon query itself; here the month's saved responses are filtered to
    the crimes whose point lies in the polygon (edges included), as police.uk would.
    """

    def __init__(self, root: Path) -> None:
        if not root.is_dir():
            raise SourceError(f"{root} is not a folder")
        self.root = root

    def path(self, *parts: str) -> Path:
        *dirs, last = [_segment(p) for p in parts]
        return self.root.joinpath(*dirs, f"{last}.json")

    def describe(self, *parts: str) -> str:
        return str(self.path(*parts))

    async def get_json(self, *parts: str) -> Any:
        path = self.path(*parts)
        return await asyncio.to_thread(_read, path)

    def describe_crimes(self, month: str, category: str = "all-crime") -> str:
        return str(self.root / "crimes-street" / _segment(category) / _segment(month))

    async def street_crimes(
        self, area: BaseGeometry, month: str, *, category: str = "all-crime"
    ) -> list[dict[str, Any]]:
        return await asyncio.to_thread(self._street_crimes, area, month, category)

    def _street_crimes(self, area: BaseGeometry, month: str, category: str) -> list[dict[str, Any]]:
        single = self.path("crimes-street", category, month)
        folder = single.with_suffix("")
        files = sorted(folder.glob("*.json")) if folder.is_dir() else []
        if single.is_file():
            files.insert(0, single)
        if not files:
            raise SourceMissing(
                f"no {single.name} nor {folder.name}/*.json", location=str(single.parent)
            )
        found: dict[object, dict[str, Any]] = {}
        for file in files:
            payload = _read(file)
            if not isinstance(payload, list):
                raise SourceError("expected a list of crimes", location=str(file))
            for i, record in enumerate(payload):
                if not isinstance(record, dict):
                    raise SourceError(f"item {i} is not a crime object", location=str(file))
                key = record.get("id")
                found.setdefault(key if isinstance(key, int) else repr(record), record)
        located: list[dict[str, Any]] = []
        xs: list[float] = []
        ys: list[float] = []
        for record in found.values():
            point = _point(record)
            if point is not None:
                located.append(record)
                xs.append(point[0])
                ys.append(point[1])
        if not located:
            return []
        inside = shapely.intersects_xy(area, xs, ys)
        return [record for record, hit in zip(located, inside, strict=True) if hit]


def _point(record: dict[str, Any]) -> tuple[float, float] | None:
    location = record.get("location")
    if not isinstance(location, dict):
        return None
    try:
        return float(location["longitude"]), float(location["latitude"])
    except (KeyError, TypeError, ValueError):
        return None


def _read(path: Path) -> Any:
    try:
        with path.open("rb") as fh:
            return json.load(fh)
    except FileNotFoundError as exc:
        raise SourceMissing("file not found", location=str(path)) from exc
    except json.JSONDecodeError as exc:
        raise SourceError(
            f"line {exc.lineno}: not valid JSON ({exc.msg})", location=str(path)
        ) from exc
    except UnicodeDecodeError as exc:
        raise SourceError("not UTF-8 text", location=str(path)) from exc
