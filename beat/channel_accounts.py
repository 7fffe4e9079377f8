"""A force's social channel accounts: adding, listing, checking and removing them."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from tortoise.exceptions import IntegrityError
from tortoise.transactions import in_transaction

from beat import audit, credentials, notifications
from beat.channels import ChannelKind, Renew
from beat.credentials import CredentialBox
from beat.errors import Conflict, FieldError, Invalid, NotAllowed, NotFound
from beat.models import (
    ChannelAccount,
    ChannelArea,
    Delivery,
    Force,
    Neighbourhood,
    Post,
    Role,
    User,
)

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class AccountView:
    account: ChannelAccount
    areas: list[Neighbourhood]


def _admin_of(actor: User | None, force_id: str) -> None:
    if actor is not None and (actor.role != Role.FORCE_ADMIN or actor.force_id != force_id):
        raise NotAllowed("only the force's administrators manage its channel accounts")


def _reader_of(actor: User, force_id: str) -> None:
    if actor.role not in (Role.COMMS, Role.FORCE_ADMIN) or actor.force_id != force_id:
        raise NotAllowed("only comms and administrators of the force see its channel accounts")


async def view_of(account: ChannelAccount) -> AccountView:
    areas = await Neighbourhood.filter(channel_areas__account_id=account.id).order_by("name")
    return AccountView(account, areas)


async def add_account(
    actor: User | None,
    force_id: str,
    *,
    kind: str,
    name: str,
    neighbourhoods: list[str],
    force_wide: bool,
    raw_credentials: Any,
    box: CredentialBox,
    now: datetime,
) -> AccountView:
    _admin_of(actor, force_id)
    if not await Force.exists(id=force_id):
        raise NotFound(f"no force {force_id!r}")
    if kind not in {k.value for k in ChannelKind}:
        raise Invalid.field("kind", f"one of {', '.join(k.value for k in ChannelKind)}")
    name = " ".join(name.split())
    if not 1 <= len(name) <= 120:
        raise Invalid.field("name", "1 to 120 characters")
    creds = credentials.checked(kind, raw_credentials)
    codes = list(dict.fromkeys(neighbourhoods))
    if not codes and not force_wide:
        raise Invalid.field(
            "neighbourhoods", "name the areas this account carries, or make it force-wide"
        )
    found = await Neighbourhood.filter(force_id=force_id, code__in=codes, retired_at=None)
    missing = sorted(set(codes) - {n.code for n in found})
    if missing:
        raise Invalid(
            "unknown areas",
            [FieldError("neighbourhoods", f"no area {c!r} in the force") for c in missing],
        )
    try:
        async with in_transaction():
            account = await ChannelAccount.create(
                force_id=force_id, kind=kind, name=name, force_wide=force_wide,
                credentials=box.seal(creds), created_at=now,
            )  # fmt: skip
            await ChannelArea.bulk_create(
                [ChannelArea(account=account, neighbourhood=n) for n in found]
            )
            # The record names the account, never its secrets.
            await audit.record(
                at=now, force_id=force_id, actor=actor, action="channel-added",
                details={"account": account.id, "kind": kind, "name": name,
                         "areas": sorted(n.code for n in found), "force_wide": force_wide},
            )  # fmt: skip
    except IntegrityError as exc:
        raise Conflict(f"the force already has a channel account called {name!r}") from exc
    return await view_of(account)


async def list_accounts(actor: User | None, force_id: str) -> list[AccountView]:
    if actor is not None:
        _reader_of(actor, force_id)
    found = await ChannelAccount.filter(force_id=force_id, removed_at=None).order_by("name")
    return [await view_of(a) for a in found]


async def get_account(actor: User | None, force_id: str, account_id: int) -> ChannelAccount:
    if actor is not None:
        _reader_of(actor, force_id)
    account = await ChannelAccount.get_or_none(id=account_id, force_id=force_id, removed_at=None)
    if account is None:
        raise NotFound("no such channel account in the force")
    return account


async def remove_account(
    actor: User | None, force_id: str, account_id: int, *, now: datetime
) -> None:
    """Stop using an account; what it was still to send is cancelled, its history kept."""
    _admin_of(actor, force_id)
    account = await get_account(None, force_id, account_id)
    async with in_transaction():
        await ChannelAccount.filter(id=account.id).update(removed_at=now)
        await Delivery.filter(account_id=account.id, status__in=["pending", "failed"]).update(
            status="cancelled", last_error="the account was removed"
        )
        await audit.record(
            at=now, force_id=force_id, actor=actor, action="channel-removed",
            details={"account": account.id, "name": account.name},
        )  # fmt: skip


async def accounts_for(post: Post) -> list[ChannelAccount]:
    """The live accounts that carry a post: force-wide ones and those of its areas."""
    area_ids = await Neighbourhood.filter(post_areas__post_id=post.id).values_list("id", flat=True)
    wide = await ChannelAccount.filter(force_id=post.force_id, removed_at=None, force_wide=True)
    local = await ChannelAccount.filter(
        force_id=post.force_id, removed_at=None, areas__neighbourhood_id__in=area_ids
    ).distinct()
    by_id = {a.id: a for a in [*wide, *local]}
    return [by_id[i] for i in sorted(by_id)]


@dataclass(frozen=True)
class StoredCredentials:
    """An account's credentials in the database, renewed one process at a time."""

    account_id: int
    box: CredentialBox

    async def renew(self, stale: dict[str, str], fetch: Renew) -> dict[str, str]:
        async with in_transaction():
            account = await ChannelAccount.filter(id=self.account_id).select_for_update().get()
            stored = self.box.open(account.credentials)
            if stored.get("refresh_token") != stale.get("refresh_token"):
                return stored  # another process (or call) renewed them first
            # The platform's answer is stored in this transaction; if the process dies before
            # it commits, the old refresh token is spent and the account's next check fails
            # (unhealthy, comms told) rather than anything going out unauthenticated.
            renewed = {**stored, **await fetch(stored)}
            await ChannelAccount.filter(id=self.account_id).update(
                credentials=self.box.seal(renewed)
            )
        log.info("channel credentials renewed", extra={"account": self.account_id})
        return renewed


async def record_check(
    account: ChannelAccount, *, ok: bool, handle: str, error: str, now: datetime
) -> None:
    """Store a credentials check; a newly failing account holds its deliveries and alerts comms."""
    was_healthy = account.healthy
    async with in_transaction():
        await ChannelAccount.filter(id=account.id).update(
            healthy=ok, last_checked_at=now, last_error="" if ok else error[:500],
            handle=handle or account.handle,
        )  # fmt: skip
        if was_healthy and not ok:
            await audit.record(
                at=now, force_id=account.force_id, actor=None, action="channel-unhealthy",
                reason=error[:300], details={"account": account.id, "name": account.name},
            )  # fmt: skip
            for comms in await User.filter(
                force_id=account.force_id, role=Role.COMMS, disabled_at=None
            ):
                await notifications.tell(
                    comms.id, "channel-unhealthy", now=now,
                    message=f"The {account.kind} account {account.name!r} stopped working: "
                    f"{error[:200]}. Its posts are held until it is fixed.",
                    details={"account": account.id},
                )  # fmt: skip
        elif ok and not was_healthy:
            await audit.record(
                at=now, force_id=account.force_id, actor=None, action="channel-healthy",
                details={"account": account.id, "name": account.name},
            )  # fmt: skip
