"""A force's settings, area holds, templates and audit trail."""

from __future__ import annotations

import uuid
from typing import Literal

from aiohttp import web
from pydantic import Field

from beat import audit, forces, templates
from beat.api import serialise
from beat.api.auth import actor
from beat.api.inputs import Body, path_int, path_str, query_str, read_json, reject_unknown_query
from beat.api.keys import CLOCK
from beat.api.post_routes import parse_when
from beat.areas import AREA_ID_MAX, FORCE_ID_MAX
from beat.errors import Invalid
from beat.models import ModerationPolicy

routes = web.RouteTableDef()

Policy = Literal["pre-moderate-all", "risky-only", "trusted-bypass"]


class SettingsBody(Body):
    moderation_policy: Policy | None = None
    require_welsh: bool | None = None
    officers_post_force_wide: bool | None = None
    publication_delays: dict[str, int] | None = Field(default=None, max_length=10)
    reject_reasons: list[str] | None = Field(default=None, max_length=30)
    approval_grace_minutes: int | None = None
    retention_days: int | None = None


class HoldBody(Body):
    reason: str = Field(max_length=300)


class TemplateBody(Body):
    title: str = Field(max_length=120)
    body: str = Field(max_length=2000)
    kind: str = Field(default="update", max_length=30)


class TemplatePatch(Body):
    title: str | None = Field(default=None, max_length=120)
    body: str | None = Field(default=None, max_length=2000)
    kind: str | None = Field(default=None, max_length=30)
    active: bool | None = None


def _force(request: web.Request) -> str:
    return path_str(request, "force", max_length=FORCE_ID_MAX)


@routes.get("/v1/forces/{force}/settings")
async def read_settings(request: web.Request) -> web.Response:
    reject_unknown_query(request, set())
    found = await forces.read_settings(await actor(request), _force(request))
    return web.json_response(serialise.force_settings(found))


@routes.patch("/v1/forces/{force}/settings")
async def change_settings(request: web.Request) -> web.Response:
    who = await actor(request)
    body = await read_json(request, SettingsBody)
    change = forces.SettingsChange(
        moderation_policy=ModerationPolicy(body.moderation_policy)
        if body.moderation_policy
        else None,
        require_welsh=body.require_welsh,
        officers_post_force_wide=body.officers_post_force_wide,
        publication_delays=body.publication_delays,
        reject_reasons=body.reject_reasons,
        approval_grace_minutes=body.approval_grace_minutes,
        retention_days=body.retention_days,
        clear_retention="retention_days" in body.model_fields_set and body.retention_days is None,
    )
    found = await forces.update_settings(who, _force(request), change, now=request.app[CLOCK]())
    return web.json_response(serialise.force_settings(found))


async def _hold(request: web.Request, *, on: bool) -> web.Response:
    who = await actor(request)
    reason = (await read_json(request, HoldBody)).reason if on else ""
    area = await forces.set_hold(
        who,
        _force(request),
        path_str(request, "neighbourhood", max_length=AREA_ID_MAX),
        on=on,
        reason=reason,
        now=request.app[CLOCK](),
    )
    return web.json_response(serialise.hold(area))


@routes.put("/v1/areas/{force}/{neighbourhood}/hold")
async def hold(request: web.Request) -> web.Response:
    return await _hold(request, on=True)


@routes.delete("/v1/areas/{force}/{neighbourhood}/hold")
async def release(request: web.Request) -> web.Response:
    return await _hold(request, on=False)


@routes.get("/v1/templates")
async def list_templates(request: web.Request) -> web.Response:
    reject_unknown_query(request, set())
    found = await templates.list_templates(await actor(request))
    return web.json_response({"items": [serialise.template(t) for t in found]})


@routes.post("/v1/forces/{force}/templates")
async def create_template(request: web.Request) -> web.Response:
    who = await actor(request)
    body = await read_json(request, TemplateBody)
    made = await templates.create_template(
        who, _force(request), title=body.title, body=body.body, kind=body.kind,
        now=request.app[CLOCK](),
    )  # fmt: skip
    return web.json_response(serialise.template(made), status=201)


@routes.patch("/v1/templates/{template_id}")
async def change_template(request: web.Request) -> web.Response:
    who = await actor(request)
    body = await read_json(request, TemplatePatch)
    changed = await templates.update_template(
        who, path_int(request, "template_id"), now=request.app[CLOCK](),
        title=body.title, body=body.body, kind=body.kind, active=body.active,
    )  # fmt: skip
    return web.json_response(serialise.template(changed))


async def _audit_rows(request: web.Request) -> list[audit.AuditEntry]:
    reject_unknown_query(request, {"from", "to", "post"})
    who = await actor(request)
    post = query_str(request, "post", required=False, max_length=40)
    try:
        post_id = uuid.UUID(post) if post else None
    except ValueError as exc:
        raise Invalid.field("post", "is not a post id") from exc
    return await audit.entries(
        who,
        start=parse_when(query_str(request, "from", required=False, max_length=40), "from"),
        end=parse_when(query_str(request, "to", required=False, max_length=40), "to"),
        post_id=post_id,
    )


@routes.get("/v1/audit")
async def audit_json(request: web.Request) -> web.Response:
    rows = await _audit_rows(request)
    return web.json_response(
        {"items": [audit.scrubbed(r) for r in rows]}, headers={"Cache-Control": "no-store"}
    )


@routes.get("/v1/audit.csv")
async def audit_csv(request: web.Request) -> web.Response:
    rows = await _audit_rows(request)
    return web.Response(
        text=audit.to_csv(rows),
        content_type="text/csv",
        headers={
            "Content-Disposition": 'attachment; filename="beat-audit.csv"',
            "Cache-Control": "no-store",
        },
    )
