"""Neighbourhood priorities and events from police.uk, synced with the areas they belong to."""

from __future__ import annotations

import html
import logging
from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

from beat import feed_versions
from beat.areas import AreaSource, plain_text
from beat.errors import SourceError, SourceMissing
from beat.models import AreaEvent, Neighbourhood, Priority

log = logging.getLogger(__name__)

# police.uk writes these datetimes without a zone; they are the team's clock, UK local time.
UK = ZoneInfo("Europe/London")
TITLE_MAX, KIND_MAX = 300, 60  # the widths of AreaEvent.title and AreaEvent.kind


@dataclass(frozen=True)
class PriorityData:
    issue: str
    issue_date: datetime | None = None
    action: str = ""
    action_date: datetime | None = None


@dataclass(frozen=True)
class EventData:
    title: str
    kind: str = ""
    description: str = ""
    address: str = ""
    starts_at: datetime | None = None
    ends_at: datetime | None = None
    contact_details: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Extras:
    """What one neighbourhood's team publishes besides its details: priorities and events."""

    priorities: tuple[PriorityData, ...] = ()
    events: tuple[EventData, ...] = ()


# ---- parsing police.uk shapes (pure) -------------------------------------------------------


def uk_time(value: object) -> datetime | None:
    """A police.uk datetime in UTC. Without an offset it is UK local time (GMT or BST).

    In the autumn hour that happens twice, the first (BST) reading is taken; a time in the
    spring gap is read as GMT. Absent or unreadable values are None.
    """
    if not isinstance(value, str) or not value.strip():
        return None
    try:
        parsed = datetime.fromisoformat(value.strip())
    except ValueError:
        return None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UK)
    return parsed.astimezone(UTC)


def _items(payload: object, what: str, where: str) -> list[dict[str, Any]]:
    if not isinstance(payload, list):
        raise SourceError(f"expected a list of {what}", location=where)
    for i, item in enumerate(payload):
        if not isinstance(item, dict):
            raise SourceError(f"item {i} is not an object", location=where)
    return payload


def parse_priorities(payload: object, where: str) -> list[PriorityData]:
    """`[{"issue", "issue-date", "action", "action-date"}]`: hyphenated keys, HTML text."""
    out = []
    for item in _items(payload, "priorities", where):
        issue = plain_text(item.get("issue"))
        if not issue:  # nothing a resident could read
            continue
        out.append(
            PriorityData(
                issue=issue,
                issue_date=uk_time(item.get("issue-date")),
                action=plain_text(item.get("action")),
                action_date=uk_time(item.get("action-date")),
            )
        )
    return out


def _contacts(value: object) -> dict[str, str]:
    if not isinstance(value, dict):
        return {}
    return {
        str(key)[:40]: html.unescape(text.strip())[:500]
        for key, text in value.items()
        if isinstance(text, str) and text.strip()
    }


def parse_events(payload: object, where: str) -> list[EventData]:
    """`[{"title", "type", "description", "address", "start_date", "end_date", ...}]`."""
    out = []
    for item in _items(payload, "events", where):
        title = plain_text(item.get("title"))[:TITLE_MAX]
        if not title:
            continue
        kind = item.get("type")
        out.append(
            EventData(
                title=title,
                kind=plain_text(kind)[:KIND_MAX] if isinstance(kind, str) else "",
                description=plain_text(item.get("description")),
                address=plain_text(item.get("address")),
                starts_at=uk_time(item.get("start_date")),
                ends_at=uk_time(item.get("end_date")),  # older payloads have none
                contact_details=_contacts(item.get("contact_details")),
            )
        )
    return out


# ---- fetching and storing ------------------------------------------------------------------


async def fetch_extras(source: AreaSource, force_id: str, code: str) -> Extras:
    """One neighbourhood's priorities and events; a 404 (or no file) means it has none."""
    found: dict[str, Any] = {}
    for what in ("priorities", "events"):
        try:
            found[what] = await source.get_json(force_id, code, what)
        except SourceMissing:
            found[what] = []
    return Extras(
        priorities=tuple(
            parse_priorities(found["priorities"], source.describe(force_id, code, "priorities"))
        ),
        events=tuple(parse_events(found["events"], source.describe(force_id, code, "events"))),
    )


def _event_order(event: EventData) -> tuple[bool, datetime, str]:
    return (
        event.starts_at is None,
        event.starts_at or datetime.min.replace(tzinfo=UTC),
        event.title,
    )


def _stored_priority(row: Priority) -> PriorityData:
    return PriorityData(row.issue, row.issue_date, row.action, row.action_date)


def _stored_event(row: AreaEvent) -> EventData:
    return EventData(
        row.title, row.kind, row.description, row.address, row.starts_at, row.ends_at,
        dict(row.contact_details),
    )  # fmt: skip


async def store_extras(force_id: str, extras: Mapping[str, Extras], now: datetime) -> list[int]:
    """Replace each listed area's priorities and events; run inside the caller's transaction.

    Areas whose set changed get their feed version bumped; the ids of those areas are returned.
    """
    ids = dict(
        await Neighbourhood.filter(force_id=force_id, code__in=list(extras)).values_list(
            "code", "id"
        )
    )
    priorities: dict[int, list[PriorityData]] = defaultdict(list)
    for row in await Priority.filter(neighbourhood_id__in=list(ids.values())).order_by(
        "neighbourhood_id", "position", "id"
    ):
        priorities[row.neighbourhood_id].append(_stored_priority(row))
    events: dict[int, list[EventData]] = defaultdict(list)
    for event in await AreaEvent.filter(neighbourhood_id__in=list(ids.values())):
        events[event.neighbourhood_id].append(_stored_event(event))

    changed: list[int] = []
    for code, new in extras.items():
        area_id = ids.get(code)
        if area_id is None:
            continue
        new_events = sorted(new.events, key=_event_order)
        same = priorities[area_id] == list(new.priorities) and (
            sorted(events[area_id], key=_event_order) == new_events
        )
        if same:
            continue
        changed.append(area_id)
        await Priority.filter(neighbourhood_id=area_id).delete()
        await AreaEvent.filter(neighbourhood_id=area_id).delete()
        await Priority.bulk_create(
            [
                Priority(
                    neighbourhood_id=area_id,
                    position=i,
                    issue=p.issue,
                    issue_date=p.issue_date,
                    action=p.action,
                    action_date=p.action_date,
                    synced_at=now,
                )
                for i, p in enumerate(new.priorities)
            ]
        )
        await AreaEvent.bulk_create(
            [
                AreaEvent(
                    neighbourhood_id=area_id,
                    title=e.title,
                    kind=e.kind,
                    description=e.description,
                    address=e.address,
                    starts_at=e.starts_at,
                    ends_at=e.ends_at,
                    contact_details=e.contact_details,
                    synced_at=now,
                )
                for e in new_events
            ]
        )
    await feed_versions.bump(changed, now)
    if changed:
        log.info("priorities and events changed", extra={"force": force_id, "areas": len(changed)})
    return changed
