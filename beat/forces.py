"""A force's own rules for posts (moderation policy, Welsh, delays, reasons) and area holds."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from tortoise.transactions import in_transaction

from beat import audit
from beat.errors import Invalid, NotAllowed, NotFound
from beat.models import (
    DEFAULT_REJECT_REASONS,
    Force,
    ForceSettings,
    ModerationPolicy,
    Neighbourhood,
    Role,
    User,
)

POST_KINDS = ("update", "patrol", "appeal", "event", "advice")
_REASON_SLUG = "abcdefghijklmnopqrstuvwxyz0123456789-"


async def settings_of(force_id: str) -> ForceSettings:
    """The force's settings, made with defaults on first use."""
    found = await ForceSettings.get_or_none(force_id=force_id)
    if found is not None:
        return found
    if not await Force.exists(id=force_id):
        raise NotFound(f"no force {force_id!r}")
    found, _ = await ForceSettings.get_or_create(
        force_id=force_id, defaults={"reject_reasons": list(DEFAULT_REJECT_REASONS)}
    )
    return found


def _staff_of(actor: User, force_id: str) -> None:
    if actor.role == Role.RESIDENT or actor.force_id != force_id:
        raise NotAllowed("only staff of this force may see its settings")


async def read_settings(actor: User, force_id: str) -> ForceSettings:
    _staff_of(actor, force_id)
    return await settings_of(force_id)


@dataclass(frozen=True)
class SettingsChange:
    """Fields left None are not changed."""

    moderation_policy: ModerationPolicy | None = None
    require_welsh: bool | None = None
    officers_post_force_wide: bool | None = None
    publication_delays: dict[str, int] | None = None
    reject_reasons: list[str] | None = None
    approval_grace_minutes: int | None = None
    retention_days: int | None = None
    clear_retention: bool = False


def _check(change: SettingsChange) -> None:
    if change.publication_delays is not None:
        for kind, minutes in change.publication_delays.items():
            if kind not in POST_KINDS:
                raise Invalid.field(f"/publication_delays/{kind}", f"not a post kind: {POST_KINDS}")
            if not 0 <= minutes <= 7 * 24 * 60:
                raise Invalid.field(f"/publication_delays/{kind}", "0 to 10080 minutes")
    if change.reject_reasons is not None:
        if not 1 <= len(change.reject_reasons) <= 30:
            raise Invalid.field("/reject_reasons", "give 1 to 30 reasons")
        for reason in change.reject_reasons:
            if not (1 <= len(reason) <= 40 and set(reason) <= set(_REASON_SLUG)):
                raise Invalid.field("/reject_reasons", f"{reason!r}: use lower-case-slugs")
    if change.approval_grace_minutes is not None and not 1 <= change.approval_grace_minutes <= 1440:
        raise Invalid.field("/approval_grace_minutes", "1 to 1440 minutes")
    if change.retention_days is not None and not 30 <= change.retention_days <= 3650:
        raise Invalid.field("/retention_days", "30 to 3650 days")


async def update_settings(
    actor: User | None, force_id: str, change: SettingsChange, *, now: datetime
) -> ForceSettings:
    """A force-admin (or the operator at the command line, actor None) changes the rules."""
    if actor is not None and (actor.role != Role.FORCE_ADMIN or actor.force_id != force_id):
        raise NotAllowed("only the force's administrators change its settings")
    _check(change)
    current = await settings_of(force_id)
    values: dict[str, Any] = {
        k: v for k, v in change.__dict__.items() if v is not None and k not in ("clear_retention",)
    }
    if change.clear_retention:
        values["retention_days"] = None
    if change.reject_reasons is not None:
        values["reject_reasons"] = list(dict.fromkeys(change.reject_reasons))
    if not values:
        return current  # nothing asked for, nothing changed, nothing to record
    before = {k: _plain(getattr(current, k)) for k in values}
    async with in_transaction():
        await ForceSettings.filter(force_id=force_id).update(**values)
        await audit.record(
            at=now, force_id=force_id, actor=actor, action="settings-changed",
            details={"before": before, "after": {k: _plain(v) for k, v in values.items()}},
        )  # fmt: skip
    return await settings_of(force_id)


def _plain(value: Any) -> Any:
    return value.value if isinstance(value, ModerationPolicy) else value


async def set_hold(
    actor: User, force_id: str, code: str, *, on: bool, reason: str, now: datetime
) -> Neighbourhood:
    """Hold (or release) every post for an area, e.g. during an operation."""
    if actor.role not in (Role.COMMS, Role.FORCE_ADMIN) or actor.force_id != force_id:
        raise NotAllowed("only comms and administrators of the force hold its areas")
    area = await Neighbourhood.get_or_none(force_id=force_id, code=code, retired_at=None)
    if area is None:
        raise NotFound(f"no neighbourhood {code!r} in force {force_id!r}")
    reason = " ".join(reason.split())
    if on and not 3 <= len(reason) <= 300:
        raise Invalid.field("/reason", "say why, in 3 to 300 characters")
    async with in_transaction():
        await Neighbourhood.filter(id=area.id).update(
            hold_since=now if on else None, hold_reason=reason if on else ""
        )
        await audit.record(
            at=now, force_id=force_id, actor=actor, action="area-held" if on else "area-released",
            reason=reason, details={"neighbourhood": code},
        )  # fmt: skip
    return await Neighbourhood.get(id=area.id)
