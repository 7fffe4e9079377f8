"""Neighbourhoods from a force's own GIS files: GeoJSON features, one area each."""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import shapely
from shapely.geometry import MultiPolygon, mapping, shape
from tortoise.transactions import in_transaction

from beat import crimes
from beat.areas import AREA_ID_MAX, plain_text, valid_area
from beat.errors import NotFound, SourceError
from beat.models import Force, Neighbourhood, Team

log = logging.getLogger(__name__)

NAME_MAX = 200  # the width of Neighbourhood.name
# ONS code and name columns: WD19CD / WD19NM, LAD19CD, LSOA21CD / LSOA21NM, MSOA11CD, ...
ONS_CODE = re.compile(r"^[a-z]+\d{2}cd$", re.IGNORECASE)
ONS_NAME = re.compile(r"^[a-z]+\d{2}nm$", re.IGNORECASE)
ID_HELP = (
    "`id`, then the feature's own id, then an ONS code such as wd19cd or LSOA21CD, then `code`"
)
NAME_HELP = "`name`, then an ONS name such as wd19nm or LSOA21NM, then the id"


@dataclass(frozen=True)
class AreaFeature:
    code: str
    name: str
    boundary: dict[str, Any]  # GeoJSON Polygon or MultiPolygon, lng/lat
    where: str  # file and feature, for messages


@dataclass(frozen=True)
class ImportResult:
    force: str
    created: int
    updated: int
    unchanged: int
    files: int


# ---- reading (pure, apart from the files) --------------------------------------------------


def _features(path: Path) -> list[tuple[str, object]]:
    """(where, feature) pairs from a FeatureCollection, a single Feature, or GeoJSON lines."""
    try:
        text = path.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError as exc:
        raise SourceError("not UTF-8 text", location=str(path)) from exc
    except OSError as exc:
        raise SourceError(f"cannot read it ({exc.strerror})", location=str(path)) from exc
    try:
        document = json.loads(text)
    except json.JSONDecodeError as exc:
        if exc.msg != "Extra data":
            raise SourceError(
                f"line {exc.lineno}: not valid JSON ({exc.msg})", location=str(path)
            ) from exc
        # GeoJSON lines (or a text sequence): one Feature per line.
        found: list[tuple[str, object]] = []
        for number, line in enumerate(text.splitlines(), start=1):
            line = line.strip().lstrip("\x1e")
            if not line:
                continue
            try:
                found.append((f"{path}:{number}: feature {len(found)}", json.loads(line)))
            except json.JSONDecodeError as line_exc:
                raise SourceError(
                    f"line {number}: not valid JSON ({line_exc.msg})", location=str(path)
                ) from line_exc
        return found
    if isinstance(document, dict) and document.get("type") == "FeatureCollection":
        members = document.get("features")
        if not isinstance(members, list):
            raise SourceError("a FeatureCollection without a features list", location=str(path))
        return [(f"{path}: feature {i}", f) for i, f in enumerate(members)]
    if isinstance(document, dict) and document.get("type") == "Feature":
        return [(f"{path}: feature 0", document)]
    raise SourceError("expected a GeoJSON FeatureCollection or Feature", location=str(path))


def _pick(properties: dict[str, Any], named: str | None, pattern: re.Pattern[str]) -> object:
    if named is not None:
        return properties.get(named)
    for key, value in properties.items():
        if pattern.match(key):
            return value
    return None


def _text(value: object) -> str:
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    return value.strip() if isinstance(value, str) else ""


def parse_feature(
    feature: object, where: str, *, id_property: str | None, name_property: str | None
) -> AreaFeature:
    """One Feature as an area: its id and name from properties, its Polygon or MultiPolygon."""
    if not isinstance(feature, dict) or feature.get("type") != "Feature":
        raise SourceError("not a GeoJSON Feature", location=where)
    properties = feature.get("properties") or {}
    if not isinstance(properties, dict):
        raise SourceError("properties is not an object", location=where)
    if id_property is not None:
        code = _text(properties.get(id_property))
    else:
        code = next(
            (
                c
                for c in (
                    _text(properties.get("id")),
                    _text(feature.get("id")),
                    _text(_pick(properties, None, ONS_CODE)),
                    _text(properties.get("code")),
                )
                if c
            ),
            "",
        )
    if not code:
        wanted = f"property {id_property!r}" if id_property else ID_HELP
        raise SourceError(
            f"no id (looked for {wanted}); name one with --id-property", location=where
        )
    if len(code) > AREA_ID_MAX or "\x00" in code:
        raise SourceError(
            f"the id {code[:40]!r}... is not a usable neighbourhood id", location=where
        )
    if name_property is not None:
        name = plain_text(properties.get(name_property))
    else:
        name = plain_text(properties.get("name")) or plain_text(_pick(properties, None, ONS_NAME))
    geometry = feature.get("geometry")
    if not isinstance(geometry, dict) or geometry.get("type") not in ("Polygon", "MultiPolygon"):
        kind = geometry.get("type") if isinstance(geometry, dict) else "no geometry"
        raise SourceError(f"{code}: a {kind}, not a Polygon or MultiPolygon", location=where)
    try:
        parsed = shape(geometry)
    except (ValueError, TypeError, KeyError, IndexError, shapely.errors.GEOSException) as exc:
        raise SourceError(f"{code}: unreadable geometry ({exc})", location=where) from exc
    min_x, min_y, max_x, max_y = parsed.bounds
    if not (-180 <= min_x <= max_x <= 180 and -90 <= min_y <= max_y <= 90):
        raise SourceError(
            f"{code}: coordinates outside longitude/latitude (GeoJSON is WGS84; is this "
            "British National Grid?)",
            location=where,
        )
    area = valid_area(parsed, where)
    if geometry["type"] == "MultiPolygon" and not isinstance(area, MultiPolygon):
        area = MultiPolygon([area])  # kept as the file has it
    # Plain lists, not tuples, so comparing with the stored JSON is exact.
    boundary = json.loads(json.dumps(mapping(area)))
    return AreaFeature(code, (name or code)[:NAME_MAX], boundary, where)


def read_features(
    paths: Sequence[Path], *, id_property: str | None = None, name_property: str | None = None
) -> list[AreaFeature]:
    """Every feature of every file, checked; an id given twice is an error naming both."""
    found: list[AreaFeature] = []
    seen: dict[str, str] = {}
    for path in paths:
        for where, feature in _features(path):
            area = parse_feature(
                feature, where, id_property=id_property, name_property=name_property
            )
            if area.code in seen:
                raise SourceError(f"{area.code} is also at {seen[area.code]}", location=where)
            seen[area.code] = where
            found.append(area)
    if not found:
        raise SourceError("no features in " + ", ".join(str(p) for p in paths))
    return found


# ---- storing -------------------------------------------------------------------------------


async def import_areas(
    force_id: str, features: Sequence[AreaFeature], *, now: datetime, files: int = 1
) -> ImportResult:
    """Create or update the force's neighbourhoods from features, in one transaction.

    Areas not in the files are left as they are. A changed boundary moves the boundaries'
    revision, so every process's locator rebuilds; crimes are placed again afterwards.
    """
    created = updated = unchanged = 0
    async with in_transaction():
        if not await Force.exists(id=force_id):
            raise NotFound(f"no force {force_id!r}: create it first with `beat areas sync`")
        existing = {n.code: n for n in await Neighbourhood.filter(force_id=force_id)}
        teams = {t.code: t for t in await Team.filter(force_id=force_id)}
        for area in features:
            row = existing.get(area.code)
            if row is None:
                team = teams.get(area.code)
                if team is None:
                    team = await Team.create(force_id=force_id, code=area.code, name=area.name)
                    teams[area.code] = team
                centre = shape(area.boundary).representative_point()
                await Neighbourhood.create(
                    force_id=force_id, code=area.code, name=area.name, team=team,
                    boundary=area.boundary, boundary_updated_at=now,
                    centre_lat=centre.y, centre_lng=centre.x,
                )  # fmt: skip
                created += 1
                continue
            values: dict[str, Any] = {}
            if row.name != area.name:
                values["name"] = area.name
            if row.boundary != area.boundary:
                values["boundary"] = area.boundary
                values["boundary_updated_at"] = now
            if row.retired_at is not None:
                values["retired_at"] = None
                values["boundary_updated_at"] = now
            if not values:
                unchanged += 1
                continue
            await Neighbourhood.filter(id=row.id).update(**values)
            updated += 1
        if created or updated:
            await crimes.reassign_force(force_id, now)  # the crimes follow the new boundaries
    log.info(
        "areas imported",
        extra={"force": force_id, "areas_new": created, "areas_updated": updated, "files": files},
    )
    return ImportResult(force_id, created, updated, unchanged, files)
