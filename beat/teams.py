"""Safer Neighbourhood Teams: which neighbourhoods each team covers."""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass

from tortoise.exceptions import IntegrityError
from tortoise.transactions import in_transaction

from beat.errors import Conflict, FieldError, Invalid, NotAllowed, NotFound
from beat.models import Force, Neighbourhood, Role, Team, User

log = logging.getLogger(__name__)

_CODE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$")


@dataclass(frozen=True)
class TeamView:
    team: Team
    neighbourhoods: list[Neighbourhood]


def _check_staff(actor: User | None, force_id: str, *, admin: bool) -> None:
    if actor is None:
        return
    if actor.force_id != force_id or actor.role == Role.RESIDENT:
        raise NotAllowed("you may only see your own force's teams")
    if admin and actor.role != Role.FORCE_ADMIN:
        raise NotAllowed("only a force administrator changes teams")


async def _force(force_id: str) -> Force:
    force = await Force.get_or_none(id=force_id)
    if force is None:
        raise NotFound(f"no force {force_id!r}")
    return force


async def list_teams(actor: User | None, force_id: str) -> list[TeamView]:
    _check_staff(actor, force_id, admin=False)
    await _force(force_id)
    teams = await Team.filter(force_id=force_id).order_by("name")
    areas = (
        await Neighbourhood.filter(force_id=force_id, retired_at=None)
        .only("id", "force_id", "code", "name", "centre_lat", "centre_lng", "team_id")
        .order_by("name")
    )
    by_team: dict[int, list[Neighbourhood]] = {}
    for area in areas:
        if area.team_id is not None:
            by_team.setdefault(area.team_id, []).append(area)
    return [TeamView(t, by_team.get(t.id, [])) for t in teams]


async def get_team(actor: User | None, force_id: str, code: str) -> TeamView:
    for view in await list_teams(actor, force_id):
        if view.team.code == code:
            return view
    raise NotFound(f"no team {code!r} in force {force_id!r}")


async def create_team(actor: User | None, force_id: str, *, code: str, name: str) -> TeamView:
    """A team beyond the one-per-neighbourhood that sync makes, e.g. a district team."""
    _check_staff(actor, force_id, admin=True)
    await _force(force_id)
    if not _CODE.match(code):
        raise Invalid.field("id", "use letters, digits, '.', '_' or '-' (at most 100)")
    name = " ".join(name.split())
    if not 1 <= len(name) <= 200:
        raise Invalid.field("name", "must be 1 to 200 characters")
    try:
        team = await Team.create(force_id=force_id, code=code, name=name)
    except IntegrityError as exc:
        raise Conflict(f"team {code!r} already exists in force {force_id!r}") from exc
    log.info("team created", extra={"force": force_id, "team": code})
    return TeamView(team, [])


async def assign_neighbourhoods(
    actor: User | None, force_id: str, team_code: str, codes: list[str]
) -> TeamView:
    """Give a team these neighbourhoods (taking them from whichever team had them)."""
    _check_staff(actor, force_id, admin=True)
    team = await Team.get_or_none(force_id=force_id, code=team_code)
    if team is None:
        raise NotFound(f"no team {team_code!r} in force {force_id!r}")
    wanted = list(dict.fromkeys(codes))
    if not wanted:
        raise Invalid.field("neighbourhoods", "name at least one neighbourhood")
    found = await Neighbourhood.filter(force_id=force_id, code__in=wanted, retired_at=None)
    missing = sorted(set(wanted) - {n.code for n in found})
    if missing:
        raise Invalid(
            "unknown neighbourhoods",
            [
                FieldError("neighbourhoods", f"no neighbourhood {code!r} in force")
                for code in missing
            ],
        )
    async with in_transaction():
        await Neighbourhood.filter(id__in=[n.id for n in found]).update(team_id=team.id)
    log.info("team areas assigned", extra={"force": force_id, "team": team_code, "areas": wanted})
    return await get_team(actor, force_id, team_code)
