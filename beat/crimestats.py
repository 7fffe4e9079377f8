"""Crime statistics from police.uk data: per area and month, per force, snap points, outcomes."""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime

from tortoise.functions import Count

from beat import areas, crimefiles
from beat.errors import Invalid, NotFound
from beat.models import (
    AreaCrimeStat,
    Crime,
    CrimeMonth,
    CrimeOutcome,
    Force,
    ForceCrimeStat,
    Neighbourhood,
)

ATTRIBUTION = "Contains public sector information licensed under the Open Government Licence v3.0."
LICENCE_URL = "https://www.nationalarchives.gov.uk/doc/open-government-licence/version/3/"
APPROXIMATE = (
    "Locations are approximate: police.uk moves each crime to the nearest of a fixed set of "
    "anonymous map points (a street, a public place or a commercial premise), never the exact "
    "place; counts at a point can gather reports from nearby streets."
)
ALL_CRIME = "all-crime"
TOP_LOCATIONS = 5

CATEGORIES = crimefiles.CATEGORIES  # slug -> name

_MONTH = re.compile(r"[0-9]{4}-(0[1-9]|1[0-2])")
_CRIME_ID = re.compile(r"[0-9a-f]{64}")


# ---- months (pure) -------------------------------------------------------------------------


def parse_month(value: str, name: str = "month") -> str:
    """A `YYYY-MM` month, or Invalid naming the parameter."""
    if not _MONTH.fullmatch(value):
        raise Invalid.field(name, "give a month as YYYY-MM, e.g. 2017-09")
    return value


def shift_month(month: str, by: int) -> str:
    year, mon = int(month[:4]), int(month[5:7])
    index = year * 12 + (mon - 1) + by
    return f"{index // 12:04d}-{index % 12 + 1:02d}"


def months_between(earlier: str, later: date) -> int:
    """Whole months from `earlier` (YYYY-MM) to the month of `later`."""
    return (later.year * 12 + later.month) - (int(earlier[:4]) * 12 + int(earlier[5:7]))


def parse_crime_id(value: str) -> str:
    """A police.uk persistent crime id (64 hex digits), lower-cased; Invalid otherwise."""
    lowered = value.lower()
    if not _CRIME_ID.fullmatch(lowered):
        raise Invalid.field("crime_id", "a crime id is 64 hexadecimal digits")
    return lowered


def category(value: str | None) -> str:
    """A category slug for filtering (default `all-crime`); Invalid for an unknown one."""
    if value is None or value == ALL_CRIME:
        return ALL_CRIME
    if value not in CATEGORIES:
        raise Invalid.field("category", f"one of {ALL_CRIME}, {', '.join(CATEGORIES)}")
    return value


# ---- one area ------------------------------------------------------------------------------


@dataclass(frozen=True)
class MonthCounts:
    """Crimes in one area and month: the total and per category (every category, zeros too)."""

    month: str
    total: int
    by_category: dict[str, int]


@dataclass(frozen=True)
class AreaStats:
    """An area's month of crime data, set beside the month before and the year before."""

    area: Neighbourhood
    current: MonthCounts
    previous: MonthCounts | None  # None: that month was never imported for the force
    year_before: MonthCounts | None
    top_locations: list[tuple[str, int]]
    arrived_at: datetime
    lag_months: int
    available_months: list[str]  # newest first


async def imported_months(force_id: str) -> dict[str, datetime]:
    """The force's imported months and when each arrived, newest month first."""
    rows = (
        await CrimeMonth.filter(force_id=force_id)
        .order_by("-month")
        .values_list("month", "arrived_at")
    )
    return {str(month): arrived for month, arrived in rows}


def counts(month: str, rows: Iterable[tuple[str, int]]) -> MonthCounts:
    """Fold (category, count) rows into MonthCounts; every known category is present."""
    by_category = dict.fromkeys(CATEGORIES, 0)
    for slug, n in rows:
        by_category[slug] = by_category.get(slug, 0) + int(n)
    return MonthCounts(month, sum(by_category.values()), by_category)


async def _area_counts(area_id: int, months: Iterable[str]) -> dict[str, MonthCounts]:
    wanted = sorted(set(months))
    rows = await AreaCrimeStat.filter(neighbourhood_id=area_id, month__in=wanted).values_list(
        "month", "category", "count"
    )
    grouped: dict[str, list[tuple[str, int]]] = defaultdict(list)
    for month, slug, n in rows:
        grouped[str(month)].append((str(slug), int(n)))
    return {m: counts(m, grouped.get(m, [])) for m in wanted}


async def _resolve_month(force_id: str, month: str | None) -> tuple[str, dict[str, datetime]]:
    available = await imported_months(force_id)
    if not available:
        raise NotFound(f"no crime data has been imported for force {force_id!r} yet")
    if month is None:
        return next(iter(available)), available
    if month not in available:
        listed = ", ".join(sorted(available))
        raise NotFound(f"no crime data for {month} in force {force_id!r}; months held: {listed}")
    return month, available


async def area_stats(force_id: str, code: str, month: str | None, *, today: date) -> AreaStats:
    """An area's statistics for `month` (default: the newest imported for its force).

    The previous month and the same month a year earlier are given only when they were
    imported for the force: a month never imported is unknown, not zero.
    """
    area = await areas.get_neighbourhood(force_id, code)
    chosen, available = await _resolve_month(force_id, month)
    previous, year_before = shift_month(chosen, -1), shift_month(chosen, -12)
    known = [m for m in (chosen, previous, year_before) if m in available]
    found = await _area_counts(area.id, known)
    top = await (
        Crime.filter(neighbourhood_id=area.id, month=chosen)
        .exclude(location="")
        .annotate(n=Count("id"))
        .group_by("location")
        .order_by("-n", "location")
        .limit(TOP_LOCATIONS)
        .values_list("location", "n")
    )
    return AreaStats(
        area=area,
        current=found[chosen],
        previous=found.get(previous),
        year_before=found.get(year_before),
        top_locations=[(str(place), int(n)) for place, n in top],
        arrived_at=available[chosen],
        lag_months=months_between(chosen, today),
        available_months=list(available),
    )


@dataclass(frozen=True)
class SnapPoint:
    """One anonymous map point in an area and month, with its crimes per category."""

    lat: float
    lng: float
    location: str
    by_category: dict[str, int]

    @property
    def total(self) -> int:
        return sum(self.by_category.values())


@dataclass(frozen=True)
class AreaPoints:
    area: Neighbourhood
    month: str
    points: list[SnapPoint]


async def area_points(force_id: str, code: str, month: str | None) -> AreaPoints:
    """The area's located crimes for the month, gathered per snap point."""
    area = await areas.get_neighbourhood(force_id, code)
    chosen, _ = await _resolve_month(force_id, month)
    rows = await (
        Crime.filter(neighbourhood_id=area.id, month=chosen, lat__isnull=False, lng__isnull=False)
        .annotate(n=Count("id"))
        .group_by("lat", "lng", "location", "category")
        .values_list("lat", "lng", "location", "category", "n")
    )
    gathered: dict[tuple[float, float], dict[str, int]] = defaultdict(dict)
    names: dict[tuple[float, float], str] = {}
    for lat, lng, location, slug, n in rows:
        key = (float(lat), float(lng))
        gathered[key][str(slug)] = gathered[key].get(str(slug), 0) + int(n)
        # One point has one name; keep the first in order should a file ever disagree.
        names[key] = min(names.get(key, str(location)), str(location))
    points = [
        SnapPoint(lat, lng, names[(lat, lng)], dict(sorted(cats.items())))
        for (lat, lng), cats in gathered.items()
    ]
    points.sort(key=lambda p: (-p.total, p.location, p.lat, p.lng))
    return AreaPoints(area, chosen, points)


# ---- forces --------------------------------------------------------------------------------


@dataclass(frozen=True)
class ForceTrend:
    force: Force
    count: int | None  # None: the force has no data for the month
    trend: list[
        tuple[str, int | None]
    ]  # (month, count) over every month any force has, oldest first


@dataclass(frozen=True)
class Comparison:
    month: str
    category: str
    months: list[str]  # oldest first
    forces: list[ForceTrend]


async def compare_forces(month: str | None, category_slug: str) -> Comparison:
    """Each force's count for the month and category (all-crime: every category summed).

    Only forces with imported data are listed; a force that has none for a month shows
    `None` there (not zero), as police.uk's gaps are gaps, not quiet months.
    """
    held = await CrimeMonth.all().values_list("force_id", "month")
    by_force: dict[str, set[str]] = defaultdict(set)
    for force_id, m in held:
        by_force[str(force_id)].add(str(m))
    months = sorted({m for ms in by_force.values() for m in ms})
    if not months:
        raise NotFound("no crime data has been imported yet")
    chosen = months[-1] if month is None else month
    if chosen not in months:
        raise NotFound(f"no force has crime data for {chosen}; months held: {', '.join(months)}")
    query = ForceCrimeStat.all()
    if category_slug != ALL_CRIME:
        query = query.filter(category=category_slug)
    totals: dict[tuple[str, str], int] = defaultdict(int)
    for force_id, m, n in await query.values_list("force_id", "month", "count"):
        totals[(str(force_id), str(m))] += int(n)
    forces = {f.id: f for f in await Force.filter(id__in=sorted(by_force))}
    rows = []
    for force_id, force in forces.items():
        trend = [
            (m, totals.get((force_id, m), 0) if m in by_force[force_id] else None) for m in months
        ]
        rows.append(ForceTrend(force, dict(trend)[chosen], trend))
    rows.sort(key=lambda r: (r.count is None, -(r.count or 0), r.force.id))
    return Comparison(chosen, category_slug, months, rows)


# ---- one crime -----------------------------------------------------------------------------


@dataclass(frozen=True)
class CrimeHistory:
    """What is known of one crime: its street record and each recorded outcome."""

    crime_id: str
    crime: Crime | None  # None when only outcome files named it
    area: Neighbourhood | None
    outcomes: list[CrimeOutcome]  # oldest first


async def crime_history(crime_id: str) -> CrimeHistory:
    crime = await Crime.filter(persistent_id=crime_id).order_by("-month").first()
    outcomes = await CrimeOutcome.filter(persistent_id=crime_id).order_by("month", "id")
    if crime is None and not outcomes:
        raise NotFound(f"no crime {crime_id} in the imported data")
    area = None
    if crime is not None and crime.neighbourhood_id is not None:
        area = await Neighbourhood.get_or_none(id=crime.neighbourhood_id, retired_at=None)
    return CrimeHistory(crime_id, crime, area, list(outcomes))
