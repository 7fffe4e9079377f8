"""Sign-in, token refresh, sign-out, resident registration and the caller's own account."""

from __future__ import annotations

from aiohttp import web
from pydantic import Field

from beat import accounts, areas
from beat.api import serialise
from beat.api.auth import actor, client_address, session_id
from beat.api.inputs import Body, header_text, read_json
from beat.api.keys import AUTH, CLOCK, SETTINGS

routes = web.RouteTableDef()

NO_STORE = {"Cache-Control": "no-store"}


class LoginBody(Body):
    email: str = Field(max_length=320)
    password: str = Field(max_length=1024)


class RefreshBody(Body):
    refresh_token: str = Field(max_length=200)


class RegisterBody(Body):
    email: str = Field(max_length=320)
    password: str = Field(max_length=1024)
    display_name: str = Field(default="", max_length=120)


@routes.post("/v1/auth/login")
async def login(request: web.Request) -> web.Response:
    body = await read_json(request, LoginBody)
    pair = await request.app[AUTH].login(
        body.email,
        body.password,
        address=client_address(request),
        user_agent=header_text(request, "User-Agent"),
    )
    await pair.user.fetch_related("team")
    return web.json_response(serialise.tokens(pair, request.app[CLOCK]()), headers=NO_STORE)


@routes.post("/v1/auth/refresh")
async def refresh(request: web.Request) -> web.Response:
    body = await read_json(request, RefreshBody)
    pair = await request.app[AUTH].refresh(body.refresh_token)
    return web.json_response(serialise.tokens(pair, request.app[CLOCK]()), headers=NO_STORE)


@routes.post("/v1/auth/logout")
async def logout(request: web.Request) -> web.Response:
    user = await actor(request)
    await request.app[AUTH].logout(user, await session_id(request))
    return web.Response(status=204)


@routes.post("/v1/auth/register")
async def register(request: web.Request) -> web.Response:
    body = await read_json(request, RegisterBody)
    user = await accounts.register_resident(
        email=body.email,
        password=body.password,
        display_name=body.display_name,
        address=client_address(request),
        settings=request.app[SETTINGS],
        now=request.app[CLOCK](),
    )
    return web.json_response(serialise.user(user), status=201)


@routes.get("/v1/me")
async def me(request: web.Request) -> web.Response:
    user = await actor(request)
    return web.json_response(serialise.user(user), headers=NO_STORE)


@routes.get("/v1/me/areas")
async def my_areas(request: web.Request) -> web.Response:
    found = await areas.postable_areas(await actor(request))
    return web.json_response({"items": [serialise.area_summary(a) for a in found]})
