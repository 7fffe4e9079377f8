"""Domain objects to the app's JSON shapes (as described in mobile_contract/openapi.yaml)."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from urllib.parse import quote

from beat.accounts import TokenPair
from beat.channel_accounts import AccountView
from beat.errors import BeatError
from beat.models import (
    ChannelAccount,
    Delivery,
    Force,
    ForceSettings,
    Neighbourhood,
    Notification,
    Photo,
    Team,
    Template,
    User,
)
from beat.post_states import allowed_actions
from beat.posts import PostView, actor_kind
from beat.templates import placeholders


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


def photo(value: Photo) -> dict[str, Any]:
    base = f"/v1/photos/{value.id}"
    return {
        "id": str(value.id),
        "width": value.width,
        "height": value.height,
        "alt_text": value.alt_text,
        "content_type": "image/jpeg",
        "urls": {"large": f"{base}/large", "thumb": f"{base}/thumb"},
    }


def _risk(hit: dict[str, Any]) -> dict[str, Any]:
    keys = ("code", "field", "start", "end", "matched", "explanation")
    return {k: hit.get(k) for k in keys}


def public_post(view: PostView) -> dict[str, Any]:
    """What anyone may see of a published post: never GPS, risks or the desk's workings."""
    post = view.post
    return {
        "id": str(post.id),
        "kind": post.kind,
        "text": post.text,
        "text_cy": post.text_cy,
        "location_label": post.location_label,
        "neighbourhoods": [area_summary(n) for n in view.areas],
        "photos": [photo(p) for p in view.photos],
        "published_at": when(post.published_at),
    }


def post(view: PostView, viewer: User) -> dict[str, Any]:
    """The post as its author and the force's comms see it (still never the raw GPS)."""
    value = view.post
    decision = None
    if value.decision:
        decision = {
            "outcome": value.decision,
            "reason": value.decision_reason or None,
            "note": value.decision_note or None,
            "decided_at": when(value.decided_at),
        }
    try:
        actions = [a.value for a in allowed_actions(value.status, actor_kind(viewer, value))]
    except BeatError:
        actions = []
    return {
        **public_post(view),
        "status": value.status.value,
        "version": value.version,
        "author_id": value.author_id,
        "template_id": value.template_id,
        "risks": [_risk(h) for h in value.risks],
        "moderation": decision,
        "assigned_to": value.assigned_to_id,
        "publish_at": when(value.publish_at),
        "not_before": when(value.not_before),
        "created_at": when(value.created_at),
        "submitted_at": when(value.submitted_at),
        "withdrawn_at": when(value.withdrawn_at),
        "actions": [a for a in actions if a in _USER_ACTIONS],
        "deliveries": [delivery(d, d.account) for d in view.deliveries],
    }


_USER_ACTIONS = {"submit", "edit", "withdraw", "approve", "edit-approve", "reject", "escalate"}


def notification(value: Notification) -> dict[str, Any]:
    return {
        "id": value.id,
        "kind": value.kind,
        "post_id": str(value.post_id) if value.post_id else None,
        "message": value.message,
        "details": value.details,
        "created_at": when(value.created_at),
        "read": value.read_at is not None,
    }


def force_settings(value: ForceSettings) -> dict[str, Any]:
    return {
        "force": value.force_id,
        "moderation_policy": value.moderation_policy.value,
        "require_welsh": value.require_welsh,
        "officers_post_force_wide": value.officers_post_force_wide,
        "publication_delays": value.publication_delays,
        "reject_reasons": value.reject_reasons,
        "approval_grace_minutes": value.approval_grace_minutes,
        "retention_days": value.retention_days,
    }


def template(value: Template) -> dict[str, Any]:
    return {
        "id": value.id,
        "title": value.title,
        "body": value.body,
        "kind": value.kind,
        "placeholders": placeholders(value.body),
        "active": value.active,
    }


def hold(value: Neighbourhood) -> dict[str, Any]:
    return {
        **area_summary(value),
        "held": value.hold_since is not None,
        "hold_since": when(value.hold_since),
        "hold_reason": value.hold_reason or None,
    }


def delivery(value: Delivery, account: ChannelAccount) -> dict[str, Any]:
    return {
        "id": value.id,
        "channel": account.kind,
        "account": {"id": account.id, "name": account.name, "handle": account.handle or None},
        "action": value.action,
        "status": value.status,
        "remote_id": value.remote_id or None,
        "url": value.url or None,
        "attempts": value.attempts,
        "last_error": value.last_error or None,
        "due_at": when(value.due_at),
        "sent_at": when(value.sent_at),
    }


def channel_account(view: AccountView) -> dict[str, Any]:
    account = view.account
    return {
        "id": account.id,
        "kind": account.kind,
        "name": account.name,
        "handle": account.handle or None,
        "force_wide": account.force_wide,
        "neighbourhoods": [area_summary(n) for n in view.areas],
        "healthy": account.healthy,
        "last_checked_at": when(account.last_checked_at),
        "last_error": account.last_error or None,
    }
