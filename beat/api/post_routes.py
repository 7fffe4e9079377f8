"""Officers' posts and their notifications: create (offline-safe), read, edit, submit, withdraw."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated

from aiohttp import web
from pydantic import BaseModel, ConfigDict, Field

from beat import notifications, posts
from beat.api import serialise
from beat.api.auth import actor, optional_actor
from beat.api.inputs import MAX_ID, Body, read_json, reject_unknown_query
from beat.api.keys import CLOCK, LOCATOR, WAKE_DELIVERY
from beat.areas import AREA_ID_MAX
from beat.errors import FieldError, Invalid, NotFound
from beat.models import Role

routes = web.RouteTableDef()

# Bounded like the columns they are looked up in: the ORM and SQLite refuse longer or larger
# values with errors of their own (500s), not a field error.
AreaCode = Annotated[str, Field(max_length=AREA_ID_MAX)]
RowId = Annotated[int, Field(ge=1, le=MAX_ID)]

NO_STORE = {"Cache-Control": "no-store"}


class Location(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)
    lat: float = Field(ge=-90, le=90)
    lng: float = Field(ge=-180, le=180)


class CreatePostBody(Body):
    text: str = Field(max_length=posts.TEXT_MAX)
    text_cy: str | None = Field(default=None, max_length=posts.TEXT_MAX)
    neighbourhoods: list[AreaCode] | None = Field(default=None, max_length=posts.MAX_AREAS)
    location: Location | None = None
    location_label: str = Field(default="", max_length=120)
    photos: list[str] = Field(default_factory=list, max_length=posts.MAX_PHOTOS)
    publish_at: str | None = Field(default=None, max_length=40)
    template_id: RowId | None = None
    kind: str = Field(default="update", max_length=30)
    draft: bool = False


class EditPostBody(Body):
    version: int
    text: str | None = Field(default=None, max_length=posts.TEXT_MAX)
    text_cy: str | None = Field(default=None, max_length=posts.TEXT_MAX)
    location_label: str | None = Field(default=None, max_length=120)
    publish_at: str | None = Field(default=None, max_length=40)


class WithdrawBody(Body):
    reason: str = Field(max_length=300)


class ReadBody(Body):
    ids: list[RowId] = Field(min_length=1, max_length=200)


def parse_when(value: str | None, name: str) -> datetime | None:
    if value is None:
        return None
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError as exc:
        raise Invalid.field(name, "is not an ISO 8601 date and time") from exc
    if parsed.tzinfo is None:
        raise Invalid.field(name, "give a time zone, e.g. 2026-11-25T18:00:00Z")
    return parsed


def parse_post_id(request: web.Request) -> uuid.UUID:
    try:
        return uuid.UUID(request.match_info["post_id"])
    except ValueError as exc:
        raise NotFound("no such post") from exc


def _photo_ids(raw: list[str]) -> list[uuid.UUID]:
    ids = []
    for i, value in enumerate(raw):
        try:
            ids.append(uuid.UUID(value))
        except ValueError as exc:
            raise Invalid(
                "bad photo id", [FieldError(f"/photos/{i}", "is not a photo id")]
            ) from exc
    return ids


def idempotency_key(request: web.Request) -> uuid.UUID:
    raw = request.headers.get("Idempotency-Key", "")
    try:
        return uuid.UUID(raw)
    except ValueError as exc:
        raise Invalid.field(
            "Idempotency-Key",
            "send a UUID made when the officer pressed send, the same on every retry",
        ) from exc


@routes.post("/v1/posts")
async def create(request: web.Request) -> web.Response:
    who = await actor(request)
    key = idempotency_key(request)
    body = await read_json(request, CreatePostBody)
    data = posts.PostInput(
        text=body.text,
        text_cy=body.text_cy,
        neighbourhoods=body.neighbourhoods,
        location=(body.location.lat, body.location.lng) if body.location else None,
        location_label=body.location_label,
        photos=_photo_ids(body.photos),
        publish_at=parse_when(body.publish_at, "/publish_at"),
        template_id=body.template_id,
        kind=body.kind,
        draft=body.draft,
    )
    view, created = await posts.create_post(
        who, data, idempotency_key=key, now=request.app[CLOCK](), locator=request.app[LOCATOR]
    )
    await request.app[WAKE_DELIVERY]()
    return web.json_response(
        serialise.post(view, who),
        status=201 if created else 200,
        headers={**NO_STORE, "Location": f"/v1/posts/{view.post.id}"},
    )


@routes.get("/v1/posts/{post_id}")
async def read(request: web.Request) -> web.Response:
    who = await optional_actor(request)
    view = await posts.get_post(who, parse_post_id(request))
    if who is not None and (
        who.id == view.post.author_id
        or (who.role in (Role.COMMS, Role.FORCE_ADMIN) and who.force_id == view.post.force_id)
    ):
        return web.json_response(serialise.post(view, who), headers=NO_STORE)
    return web.json_response(serialise.public_post(view))


@routes.patch("/v1/posts/{post_id}")
async def edit(request: web.Request) -> web.Response:
    who = await actor(request)
    body = await read_json(request, EditPostBody)
    given = body.model_fields_set
    change = posts.PostEdit(
        version=body.version,
        text=body.text,
        text_cy=body.text_cy,
        location_label=body.location_label,
        publish_at=parse_when(body.publish_at, "/publish_at"),
        clear_publish_at="publish_at" in given and body.publish_at is None,
    )
    view = await posts.edit_post(who, parse_post_id(request), change, now=request.app[CLOCK]())
    await request.app[WAKE_DELIVERY]()
    return web.json_response(serialise.post(view, who), headers=NO_STORE)


@routes.post("/v1/posts/{post_id}/submit")
async def submit(request: web.Request) -> web.Response:
    who = await actor(request)
    view = await posts.submit_draft(who, parse_post_id(request), now=request.app[CLOCK]())
    await request.app[WAKE_DELIVERY]()
    return web.json_response(serialise.post(view, who), headers=NO_STORE)


@routes.post("/v1/posts/{post_id}/withdraw")
async def withdraw(request: web.Request) -> web.Response:
    who = await actor(request)
    body = await read_json(request, WithdrawBody)
    view = await posts.withdraw(
        who, parse_post_id(request), reason=body.reason, now=request.app[CLOCK]()
    )
    await request.app[WAKE_DELIVERY]()
    return web.json_response(serialise.post(view, who), headers=NO_STORE)


@routes.get("/v1/me/posts")
async def mine(request: web.Request) -> web.Response:
    reject_unknown_query(request, set())
    who = await actor(request)
    found = await posts.my_posts(who)
    return web.json_response({"items": [serialise.post(v, who) for v in found]}, headers=NO_STORE)


@routes.get("/v1/me/notifications")
async def my_notifications(request: web.Request) -> web.Response:
    reject_unknown_query(request, {"unread"})
    who = await actor(request)
    unread = request.query.get("unread") in ("1", "true")
    found = await notifications.for_user(who, unread_only=unread)
    return web.json_response(
        {"items": [serialise.notification(n) for n in found]}, headers=NO_STORE
    )


@routes.post("/v1/me/notifications/read")
async def mark_read(request: web.Request) -> web.Response:
    who = await actor(request)
    body = await read_json(request, ReadBody)
    count = await notifications.mark_read(who, body.ids, request.app[CLOCK]())
    return web.json_response({"marked": count})
