"""create_* helpers for feed and crime-statistics tests.

Posts go through Beat's own use cases. Crime months, priorities, events and follows are
written with the ORM, the way the importer, the police.uk sync and the follows module leave
them (each bumping the feed versions of the areas whose feeds they change), so that a test can
build exactly the months and the counts it needs. Tests of the real importer use
`beat.crimes.import_paths` on the real City of London files instead.
"""

from __future__ import annotations

import csv
import uuid
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from beat import feed_versions, posts
from beat.areas import AreaLocator
from beat.models import (
    AreaCrimeStat,
    AreaEvent,
    Crime,
    CrimeMonth,
    CrimeOutcome,
    CrimeSource,
    Follow,
    ForceCrimeStat,
    Neighbourhood,
    Post,
    Priority,
    Subscriber,
    User,
)
from tests.helpers import DEMO_FORCE

REPO = Path(__file__).resolve().parent.parent
CITY_CRIMES = REPO / "beat" / "demo_data" / "police-uk" / "city-of-london"
CLEAN_TEXTS = (
    "Patrolling Aldersgate Street this evening after reports of bike thefts.",
    "Thanks to everyone who came to the beat surgery at the library today.",
    "We are running a cycle marking event outside the Barbican this weekend.",
    "Officers visited shops on Cheapside to talk about shoplifting prevention.",
)


@dataclass(frozen=True)
class CrimeSpec:
    """One street-level record to seed: its category, snap point and area."""

    category: str
    area: str | None  # neighbourhood code; None for a crime no area contains
    location: str = "On or near Test Street"
    lat: float | None = 51.5175
    lng: float | None = -0.0970
    persistent_id: str = ""
    outcome: str = ""


async def _area_ids(force_id: str) -> dict[str, int]:
    rows = await Neighbourhood.filter(force_id=force_id).values_list("code", "id")
    return {str(code): int(i) for code, i in rows}  # type: ignore[misc]


def _crime(
    force_id: str, month: str, i: int, c: CrimeSpec, ids: dict[str, int], source: CrimeSource
) -> Crime:
    return Crime(
        row_key=c.persistent_id or f"{force_id}:{month}:{i}",
        force_id=force_id,
        month=month,
        persistent_id=c.persistent_id,
        category=c.category,
        lat=c.lat,
        lng=c.lng,
        location=c.location if c.lat is not None else "",
        outcome=c.outcome,
        neighbourhood_id=ids[c.area] if c.area else None,
        source=source,
    )


async def create_crime_month(
    month: str,
    crimes: Sequence[CrimeSpec],
    *,
    arrived_at: datetime,
    force_id: str = DEMO_FORCE,
) -> CrimeSource:
    """A month of street data for a force, with its aggregates, as an import leaves it."""
    ids = await _area_ids(force_id)
    source = await CrimeSource.create(
        kind="street", force_id=force_id, month=month, name=f"{month}-{force_id}-street.csv",
        sha256=uuid.uuid4().hex * 2, rows=len(crimes),
        located=sum(1 for c in crimes if c.lat is not None),
        unlocated=sum(1 for c in crimes if c.lat is None), imported_at=arrived_at,
    )  # fmt: skip
    await Crime.bulk_create(
        [_crime(force_id, month, i, c, ids, source) for i, c in enumerate(crimes)]
    )
    per_area = Counter((c.area, c.category) for c in crimes if c.area)
    await AreaCrimeStat.bulk_create(
        [
            AreaCrimeStat(neighbourhood_id=ids[code], month=month, category=cat, count=n)
            for (code, cat), n in per_area.items()
        ]
    )
    per_force = Counter(c.category for c in crimes)
    await ForceCrimeStat.bulk_create(
        [
            ForceCrimeStat(force_id=force_id, month=month, category=cat, count=n)
            for cat, n in per_force.items()
        ]
    )
    await CrimeMonth.create(
        force_id=force_id, month=month, arrived_at=arrived_at, updated_at=arrived_at,
        rows=len(crimes),
    )  # fmt: skip
    # Every area of the force gets the month's card, crimes or none.
    await feed_versions.bump(ids.values(), arrived_at)
    return source


async def create_outcome(persistent_id: str, month: str, outcome: str, source: CrimeSource) -> None:
    await CrimeOutcome.create(
        persistent_id=persistent_id, month=month, outcome=outcome, source=source
    )


async def publish_post(
    officer: User,
    text: str,
    areas: Sequence[str],
    *,
    now: datetime,
    location: tuple[float, float] | None = None,
    location_label: str = "",
) -> Post:
    """A post through Beat's own use case; clean text under the default policy publishes at once."""
    view, _ = await posts.create_post(
        officer,
        posts.PostInput(
            text=text, neighbourhoods=list(areas), location=location, location_label=location_label
        ),
        idempotency_key=uuid.uuid4(),
        now=now,
        locator=AreaLocator(),
    )
    assert view.post.status == "published", (view.post.status, view.post.risks)
    return view.post


async def create_priority(
    area: str, issue: str, *, issue_date: datetime | None, synced_at: datetime, position: int = 0
) -> Priority:
    found = await Neighbourhood.get(force_id=DEMO_FORCE, code=area)
    priority = await Priority.create(
        neighbourhood=found, position=position, issue=issue, issue_date=issue_date,
        action="We are patrolling at peak times.", synced_at=synced_at,
    )  # fmt: skip
    await feed_versions.bump([found.id], synced_at)
    return priority


async def create_event(
    area: str, title: str, *, starts_at: datetime, synced_at: datetime
) -> AreaEvent:
    found = await Neighbourhood.get(force_id=DEMO_FORCE, code=area)
    event = await AreaEvent.create(
        neighbourhood=found, title=title, kind="Beat surgery", description="Come and talk to us.",
        address="Barbican Library", starts_at=starts_at, synced_at=synced_at,
    )  # fmt: skip
    await feed_versions.bump([found.id], synced_at)
    return event


async def follow(user: User, areas: Iterable[str], *, now: datetime) -> Subscriber:
    subscriber, _ = await Subscriber.get_or_create(
        user=user, defaults={"created_at": now, "last_seen_at": now}
    )
    for code in areas:
        found = await Neighbourhood.get(force_id=DEMO_FORCE, code=code)
        await Follow.create(subscriber=subscriber, neighbourhood=found, created_at=now)
    return subscriber


def street_rows(month: str) -> list[dict[str, str]]:
    """The rows of one of the City's real street files, read with nothing but `csv`."""
    path = CITY_CRIMES / f"{month}-city-of-london-street.csv"
    with path.open(newline="", encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


CITY_MONTHS = sorted(p.name[:7] for p in CITY_CRIMES.glob("*-street.csv"))
