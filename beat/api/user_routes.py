"""Force administrators manage their own force's staff accounts."""

from __future__ import annotations

from typing import Literal

from aiohttp import web
from pydantic import Field

from beat import accounts
from beat.api import serialise
from beat.api.auth import actor
from beat.api.inputs import Body, path_int, read_json
from beat.api.keys import CLOCK
from beat.models import Role

routes = web.RouteTableDef()

StaffRole = Literal["officer", "comms", "force-admin"]


class CreateUserBody(Body):
    email: str = Field(max_length=320)
    password: str = Field(max_length=1024)
    role: StaffRole
    team: str | None = Field(default=None, max_length=100)
    display_name: str = Field(default="", max_length=120)


class UpdateUserBody(Body):
    role: StaffRole | None = None
    team: str | None = Field(default=None, max_length=100)
    disabled: bool | None = None
    display_name: str | None = Field(default=None, max_length=120)


@routes.get("/v1/forces/{force}/users")
async def list_users(request: web.Request) -> web.Response:
    found = await accounts.list_users(await actor(request), request.match_info["force"])
    return web.json_response({"items": [serialise.user(u) for u in found]})


@routes.post("/v1/forces/{force}/users")
async def create_user(request: web.Request) -> web.Response:
    who = await actor(request)
    body = await read_json(request, CreateUserBody)
    user = await accounts.create_user(
        who,
        email=body.email,
        role=Role(body.role),
        password=body.password,
        force_id=request.match_info["force"],
        team_code=body.team,
        display_name=body.display_name,
    )
    await user.fetch_related("team")
    return web.json_response(serialise.user(user), status=201)


@routes.get("/v1/users/{user_id}")
async def get_user(request: web.Request) -> web.Response:
    found = await accounts.get_managed_user(await actor(request), path_int(request, "user_id"))
    return web.json_response(serialise.user(found))


@routes.patch("/v1/users/{user_id}")
async def update_user(request: web.Request) -> web.Response:
    who = await actor(request)
    body = await read_json(request, UpdateUserBody)
    given = body.model_fields_set
    user = await accounts.update_user(
        who,
        path_int(request, "user_id"),
        role=Role(body.role) if body.role else None,
        team_code=body.team,
        clear_team="team" in given and body.team is None,
        disabled=body.disabled,
        display_name=body.display_name,
        now=request.app[CLOCK](),
    )
    return web.json_response(serialise.user(user))
