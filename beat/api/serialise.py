"""Domain objects to the app's JSON shapes (as described in mobile_contract/openapi.yaml)."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from urllib.parse import quote

from beat.accounts import TokenPair
from beat.models import Force, Neighbourhood, Team, User


def when(value: datetime | None) -> str | None:
    return value.isoformat().replace("+00:00", "Z") if value is not None else None


def area_path(force_id: str, code: str) -> str:
    return f"/v1/areas/{quote(force_id, safe='')}/{quote(code, safe='')}"


def team(value: Team | None) -> dict[str, Any] | None:
    if value is None:
        return None
    return {"id": value.code, "name": value.name}


def _loaded_team(owner: User | Neighbourhood) -> Team | None:
    """The owner's team, which the query must have loaded (select_related or fetch_related)."""
    if owner.team_id is None:
        return None
    loaded = owner.team
    if not isinstance(loaded, Team):
        raise RuntimeError(f"{type(owner).__name__} {owner.id}: team was not loaded")
    return loaded


def user(value: User) -> dict[str, Any]:
    return {
        "id": value.id,
        "email": value.email,
        "display_name": value.display_name,
        "role": value.role.value,
        "force": value.force_id,
        "team": team(_loaded_team(value)),
        "disabled": not value.is_active,
        "created_at": when(value.created_at),
    }


def tokens(pair: TokenPair, now: datetime) -> dict[str, Any]:
    return {
        "token_type": "Bearer",
        "access_token": pair.access_token,
        "expires_in": max(0, int((pair.access_expires_at - now).total_seconds())),
        "expires_at": when(pair.access_expires_at),
        "refresh_token": pair.refresh_token,
        "refresh_expires_at": when(pair.refresh_expires_at),
        "user": user(pair.user),
    }


def force_summary(value: Force) -> dict[str, Any]:
    return {
        "id": value.id,
        "name": value.name,
        "links": {"self": f"/v1/forces/{quote(value.id, safe='')}"},
    }


def force(value: Force) -> dict[str, Any]:
    return {
        **force_summary(value),
        "description": value.description,
        "url": value.url,
        "telephone": value.telephone,
        "engagement_methods": value.engagement_methods,
    }


def _centre(value: Neighbourhood) -> dict[str, float] | None:
    if value.centre_lat is None or value.centre_lng is None:
        return None
    return {"lat": value.centre_lat, "lng": value.centre_lng}


def area_summary(value: Neighbourhood) -> dict[str, Any]:
    force_id: str = value.force_id
    return {
        "force": force_id,
        "id": value.code,
        "name": value.name,
        "centre": _centre(value),
        "links": {"self": area_path(force_id, value.code)},
    }


def area(value: Neighbourhood) -> dict[str, Any]:
    return {
        **area_summary(value),
        "force_name": value.force.name,
        "description": value.description,
        "population": value.population,
        "url_force": value.url_force,
        "contact_details": value.contact_details,
        "locations": value.locations,
        "team": team(_loaded_team(value)),
        "boundary": value.boundary,
        "boundary_updated_at": when(value.boundary_updated_at),
    }
