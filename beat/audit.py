"""The audit trail: an append-only record of every state change and decision."""

from __future__ import annotations

import csv
import io
import json
import uuid
from collections.abc import Iterable
from datetime import datetime, timedelta
from typing import Any

from beat.errors import Invalid, NotAllowed
from beat.models import AuditEntry, Role, User

__all__ = ["AuditEntry", "entries", "record", "scrubbed", "to_csv"]

# Keys that may carry where an officer stood or who a member of the public is: never exported.
_PRIVATE_KEYS = frozenset({"gps", "gps_lat", "gps_lng", "location", "email", "user_agent"})
MAX_RANGE = timedelta(days=366)


async def record(
    *,
    at: datetime,
    force_id: str,
    actor: User | None,
    action: str,
    post_id: uuid.UUID | None = None,
    from_status: str = "",
    to_status: str = "",
    reason: str = "",
    details: dict[str, Any] | None = None,
) -> AuditEntry:
    """Write one entry; call it inside the transaction of the change it records."""
    return await AuditEntry.create(
        at=at,
        force_id=force_id,
        actor_id=actor.id if actor else None,
        actor_role=actor.role.value if actor else "system",
        post_id=post_id,
        action=action,
        from_status=from_status,
        to_status=to_status,
        reason=reason[:300],
        details=details or {},
    )


def _may_read(actor: User, force_id: str | None) -> None:
    if actor.role not in (Role.COMMS, Role.FORCE_ADMIN) or force_id is None:
        raise NotAllowed("only comms and administrators of the force read its audit trail")


async def entries(
    actor: User,
    *,
    start: datetime | None = None,
    end: datetime | None = None,
    post_id: uuid.UUID | None = None,
    limit: int = 500,
) -> list[AuditEntry]:
    """The actor's force's entries, oldest first, within [start, end) and for one post if given."""
    _may_read(actor, actor.force_id)
    if start and end and end <= start:
        raise Invalid.field("to", "must be after from")
    if start and end and end - start > MAX_RANGE:
        raise Invalid.field("to", "ask for at most a year at a time")
    query = AuditEntry.filter(force_id=actor.force_id)
    if start:
        query = query.filter(at__gte=start)
    if end:
        query = query.filter(at__lt=end)
    if post_id:
        query = query.filter(post_id=post_id)
    return await query.order_by("at", "id").limit(limit)


def scrubbed(entry: AuditEntry) -> dict[str, Any]:
    """An entry as released for FOI or retention requests: no GPS, no personal contact data."""
    details = {k: v for k, v in entry.details.items() if k not in _PRIVATE_KEYS}
    return {
        "id": entry.id,
        "at": entry.at.isoformat().replace("+00:00", "Z"),
        "force": entry.force_id,
        "actor_id": entry.actor_id,
        "actor_role": entry.actor_role,
        "post_id": str(entry.post_id) if entry.post_id else None,
        "action": entry.action,
        "from_status": entry.from_status,
        "to_status": entry.to_status,
        "reason": entry.reason,
        "details": details,
    }


CSV_COLUMNS = [
    "id", "at", "force", "actor_id", "actor_role", "post_id", "action",
    "from_status", "to_status", "reason", "details",
]  # fmt: skip


def to_csv(rows: Iterable[AuditEntry]) -> str:
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=CSV_COLUMNS, lineterminator="\r\n")
    writer.writeheader()
    for entry in rows:
        row = scrubbed(entry)
        row["details"] = json.dumps(row["details"], sort_keys=True)
        # Cells starting with = + - @ would run as formulas in a spreadsheet.
        writer.writerow(
            {
                k: ("'" + v if isinstance(v, str) and v and v[0] in "=+-@" else v)
                for k, v in row.items()
            }
        )
    return out.getvalue()
