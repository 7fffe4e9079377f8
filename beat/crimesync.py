"""A force's month of street-level crime from police.uk, fetched area by area, imported at once."""

from __future__ import annotations

import asyncio
import logging
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

import shapely
from shapely.geometry import shape
from shapely.geometry.base import BaseGeometry

from beat import crimes
from beat.areas import AreaSource
from beat.errors import Invalid, NotFound, SourceError, SourceMissing
from beat.models import CrimeMonth, Force, Neighbourhood

log = logging.getLogger(__name__)

MONTH = re.compile(r"^\d{4}-(0[1-9]|1[0-2])$")
Progress = Callable[[int, int], None]


class PoliceData(AreaSource, Protocol):
    """An area source that also answers street-level crime queries for a polygon."""

    def describe_crimes(self, month: str, category: str = "all-crime") -> str:
        """A human name (URL or folder) for the month's street-level crimes."""

    async def street_crimes(
        self, area: BaseGeometry, month: str, *, category: str = "all-crime"
    ) -> list[dict[str, Any]]:
        """The month's crimes in the area (a superset near its edges), each record once."""


# ---- parsing (pure) ------------------------------------------------------------------------


def check_month(value: str) -> str:
    if not MONTH.match(value):
        raise Invalid.field("month", f"write the month as YYYY-MM, not {value!r}")
    return value


def parse_last_updated(payload: object, where: str) -> str:
    """`{"date": "2015-04-01"}`: the newest month; "the day is irrelevant"."""
    date = payload.get("date") if isinstance(payload, dict) else None
    if not isinstance(date, str) or not MONTH.match(date[:7]):
        raise SourceError('expected {"date": "YYYY-MM-DD"}', location=where)
    return date[:7]


def parse_months(payload: object, where: str) -> list[str]:
    """`[{"date": "2015-06", "stop-and-search": [...]}, ...]`: the months served, newest first."""
    if not isinstance(payload, list):
        raise SourceError("expected a list of months", location=where)
    months = []
    for i, item in enumerate(payload):
        date = item.get("date") if isinstance(item, dict) else None
        if not isinstance(date, str) or not MONTH.match(date):
            raise SourceError(f"item {i} has no YYYY-MM date", location=where)
        months.append(date)
    return sorted(set(months), reverse=True)


async def latest_month(source: AreaSource) -> str:
    """The newest month police.uk has published (crime-last-updated)."""
    return parse_last_updated(
        await source.get_json("crime-last-updated"), source.describe("crime-last-updated")
    )


async def served_months(source: AreaSource) -> list[str] | None:
    """The months the API serves (about 36), newest first; None if the source does not say."""
    try:
        payload = await source.get_json("crimes-street-dates")
    except SourceMissing:
        return None
    return parse_months(payload, source.describe("crimes-street-dates"))


# ---- fetching ------------------------------------------------------------------------------


@dataclass(frozen=True)
class FetchedMonth:
    """A force's month as police.uk gave it, area by area, each crime once."""

    force_id: str
    month: str
    areas: int
    records: list[dict[str, Any]]
    outside: int  # records police.uk returned that lie in none of the force's areas
    name: str  # what was asked, for the import's record and for people


def _points(records: Sequence[dict[str, Any]]) -> tuple[list[int], list[float], list[float]]:
    kept, xs, ys = [], [], []
    for i, record in enumerate(records):
        location = record.get("location")
        try:
            lng, lat = float(location["longitude"]), float(location["latitude"])  # type: ignore[index]
        except (KeyError, TypeError, ValueError):
            continue
        kept.append(i)
        xs.append(lng)
        ys.append(lat)
    return kept, xs, ys


def _within(records: list[dict[str, Any]], areas: Sequence[BaseGeometry]) -> list[dict[str, Any]]:
    """The records inside (or on the edge of) any of the areas; unlocated ones are kept."""
    kept, xs, ys = _points(records)
    tree = shapely.STRtree(list(areas))
    hits = tree.query(shapely.points(xs, ys), predicate="intersects")
    inside = {kept[int(i)] for i in hits[0]}
    located = set(kept)
    return [r for i, r in enumerate(records) if i in inside or i not in located]


async def fetch_month(
    source: PoliceData,
    force_id: str,
    month: str,
    *,
    progress: Progress | None = None,
    concurrency: int = 4,
) -> FetchedMonth:
    """Every live neighbourhood's crimes for the month, fetched before anything is written.

    Neighbourhoods overlap at their edges, and police.uk's answers reach a little beyond them
    (simplified outlines), so records are de-duplicated by `id` and kept only when their point
    lies in one of the force's areas. Any failure stops everything, naming the area and URL.
    """
    check_month(month)
    if not await Force.exists(id=force_id):
        raise NotFound(f"no force {force_id!r}: run `beat areas sync {force_id}` first")
    rows = await (
        Neighbourhood.filter(force_id=force_id, retired_at=None, boundary__isnull=False)
        .order_by("code")
        .values_list("code", "boundary")
    )
    if not rows:
        raise NotFound(f"force {force_id!r} has no neighbourhoods with boundaries")
    areas = [(code, shape(geojson)) for code, geojson in rows]
    done = 0
    if progress:
        progress(0, len(areas))
    gate = asyncio.Semaphore(concurrency)

    async def one(code: str, area: BaseGeometry) -> list[dict[str, Any]]:
        nonlocal done
        async with gate:
            try:
                records = await source.street_crimes(area, month)
            except SourceError as exc:
                raise SourceError(f"neighbourhood {code}: {exc.detail}") from exc
        done += 1
        if progress:
            progress(done, len(areas))
        return records

    tasks = [asyncio.create_task(one(code, area)) for code, area in areas]
    try:
        answers = await asyncio.gather(*tasks)
    except BaseException:
        # One area failed: the month is not written, so stop asking for the others.
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        raise
    unique: dict[object, dict[str, Any]] = {}
    for records in answers:
        for record in records:
            key = record.get("id")
            unique.setdefault(key if isinstance(key, int) else repr(record), record)
    everything = list(unique.values())
    inside = _within(everything, [area for _, area in areas])
    name = f"{source.describe_crimes(month)} ({len(areas)} neighbourhoods of {force_id})"
    return FetchedMonth(force_id, month, len(areas), inside, len(everything) - len(inside), name)


# ---- syncing -------------------------------------------------------------------------------


@dataclass(frozen=True)
class SyncedMonth:
    fetched: FetchedMonth
    summary: crimes.ImportSummary


async def sync_month(
    source: PoliceData,
    force_id: str,
    *,
    month: str | None = None,
    now: datetime,
    progress: Progress | None = None,
    concurrency: int = 4,
) -> SyncedMonth:
    """Fetch the force's month (default: the newest published), then import it in one go."""
    if month is None:
        month = await latest_month(source)
    else:
        check_month(month)
        served = await served_months(source)
        if served is not None and month not in served:
            span = f"{served[-1]} to {served[0]}" if served else "none"
            raise Invalid.field("month", f"police.uk serves {span}, not {month}")
    fetched = await fetch_month(source, force_id, month, progress=progress, concurrency=concurrency)
    summary = await crimes.import_api_crimes(
        fetched.records, name=fetched.name[:500], force_id=force_id, month=month, now=now
    )
    log.info(
        "crimes synced",
        extra={
            "force": force_id,
            "month": month,
            "records": len(fetched.records),
            "outside": fetched.outside,
        },
    )
    return SyncedMonth(fetched, summary)


async def check_new_months(source: PoliceData, force_ids: Sequence[str], *, now: datetime) -> int:
    """The hourly check: import police.uk's newest month for each force that lacks it.

    A force that fails is logged and left for the next check; the others go on. Returns how
    many force-months were imported.
    """
    if not force_ids:
        return 0
    month = await latest_month(source)
    imported = 0
    for force_id in force_ids:
        if await CrimeMonth.exists(force_id=force_id, month=month):
            continue
        try:
            await sync_month(source, force_id, month=month, now=now)
        except (SourceError, NotFound, Invalid) as exc:
            log.warning(
                "crime sync failed", extra={"force": force_id, "month": month, "error": exc.detail}
            )
            continue
        imported += 1
    return imported
