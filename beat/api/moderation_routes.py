"""The comms desk over HTTP: the queue, approve, edit-and-approve, reject, escalate."""

from __future__ import annotations

from aiohttp import web
from pydantic import Field

from beat import moderation
from beat.api import serialise
from beat.api.auth import actor
from beat.api.inputs import Body, read_json, reject_unknown_query
from beat.api.keys import CLOCK, WAKE_DELIVERY
from beat.api.post_routes import NO_STORE, parse_post_id, parse_when
from beat.posts import TEXT_MAX

routes = web.RouteTableDef()


class ApproveBody(Body):
    note: str = Field(default="", max_length=moderation.NOTE_MAX)
    version: int | None = None
    publish_at: str | None = Field(default=None, max_length=40)


class EditApproveBody(Body):
    text: str = Field(max_length=TEXT_MAX)
    text_cy: str | None = Field(default=None, max_length=TEXT_MAX)
    note: str = Field(default="", max_length=moderation.NOTE_MAX)
    version: int | None = None


class RejectBody(Body):
    reason: str = Field(max_length=40)
    note: str = Field(default="", max_length=moderation.NOTE_MAX)
    version: int | None = None


class EscalateBody(Body):
    to: int = Field(ge=1, le=2**31 - 1)
    note: str = Field(default="", max_length=moderation.NOTE_MAX)


@routes.get("/v1/moderation/queue")
async def queue(request: web.Request) -> web.Response:
    reject_unknown_query(request, {"mine"})
    who = await actor(request)
    found = await moderation.queue(who, mine_only=request.query.get("mine") in ("1", "true"))
    return web.json_response({"items": [serialise.post(v, who) for v in found]}, headers=NO_STORE)


@routes.post("/v1/posts/{post_id}/approve")
async def approve(request: web.Request) -> web.Response:
    who = await actor(request)
    body = await read_json(request, ApproveBody)
    view = await moderation.approve(
        who,
        parse_post_id(request),
        now=request.app[CLOCK](),
        note=body.note,
        version=body.version,
        publish_at=parse_when(body.publish_at, "/publish_at"),
    )
    await request.app[WAKE_DELIVERY]()
    return web.json_response(serialise.post(view, who), headers=NO_STORE)


@routes.post("/v1/posts/{post_id}/edit-approve")
async def edit_approve(request: web.Request) -> web.Response:
    who = await actor(request)
    body = await read_json(request, EditApproveBody)
    view = await moderation.edit_and_approve(
        who,
        parse_post_id(request),
        text=body.text,
        text_cy=body.text_cy,
        note=body.note,
        version=body.version,
        now=request.app[CLOCK](),
    )
    await request.app[WAKE_DELIVERY]()
    return web.json_response(serialise.post(view, who), headers=NO_STORE)


@routes.post("/v1/posts/{post_id}/reject")
async def reject(request: web.Request) -> web.Response:
    who = await actor(request)
    body = await read_json(request, RejectBody)
    view = await moderation.reject(
        who,
        parse_post_id(request),
        reason=body.reason,
        note=body.note,
        version=body.version,
        now=request.app[CLOCK](),
    )
    return web.json_response(serialise.post(view, who), headers=NO_STORE)


@routes.post("/v1/posts/{post_id}/escalate")
async def escalate(request: web.Request) -> web.Response:
    who = await actor(request)
    body = await read_json(request, EscalateBody)
    view = await moderation.escalate(
        who, parse_post_id(request), to_user_id=body.to, note=body.note, now=request.app[CLOCK]()
    )
    return web.json_response(serialise.post(view, who), headers=NO_STORE)
