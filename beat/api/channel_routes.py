"""Channel accounts (force administrators) and deliveries that need a decision (comms)."""

from __future__ import annotations

from typing import Any, Literal

from aiohttp import web
from pydantic import Field

from beat import channel_accounts, outbox
from beat.api import serialise
from beat.api.auth import actor
from beat.api.inputs import Body, path_int, path_str, read_json, reject_unknown_query
from beat.api.keys import CLOCK, SETTINGS, WAKE_DELIVERY
from beat.areas import AREA_ID_MAX, FORCE_ID_MAX
from beat.credentials import CredentialBox
from beat.errors import Invalid

routes = web.RouteTableDef()

NO_STORE = {"Cache-Control": "no-store"}


class AddChannelBody(Body):
    kind: Literal["x", "mastodon", "bluesky"]
    name: str = Field(max_length=120)
    neighbourhoods: list[str] = Field(default_factory=list, max_length=500)
    force_wide: bool = False
    # Write-only: never returned, never logged.
    credentials: dict[str, str] = Field(max_length=10)


class ResolveBody(Body):
    action: Literal["retry", "mark-sent", "cancel"]
    remote_id: str = Field(default="", max_length=300)


def _force(request: web.Request) -> str:
    return path_str(request, "force", max_length=FORCE_ID_MAX)


@routes.get("/v1/forces/{force}/channels")
async def list_channels(request: web.Request) -> web.Response:
    found = await channel_accounts.list_accounts(await actor(request), _force(request))
    return web.json_response({"items": [serialise.channel_account(v) for v in found]})


@routes.post("/v1/forces/{force}/channels")
async def add_channel(request: web.Request) -> web.Response:
    who = await actor(request)
    body = await read_json(request, AddChannelBody)
    if any(len(code) > AREA_ID_MAX for code in body.neighbourhoods):
        raise Invalid.field("/neighbourhoods", f"ids are at most {AREA_ID_MAX} characters")
    view = await channel_accounts.add_account(
        who, _force(request), kind=body.kind, name=body.name, neighbourhoods=body.neighbourhoods,
        force_wide=body.force_wide, raw_credentials=body.credentials,
        box=CredentialBox(request.app[SETTINGS].channel_keys_file), now=request.app[CLOCK](),
    )  # fmt: skip
    return web.json_response(serialise.channel_account(view), status=201)


@routes.delete("/v1/forces/{force}/channels/{account_id}")
async def remove_channel(request: web.Request) -> web.Response:
    who = await actor(request)
    await channel_accounts.remove_account(
        who, _force(request), path_int(request, "account_id"), now=request.app[CLOCK]()
    )
    return web.Response(status=204)


@routes.get("/v1/deliveries")
async def problem_deliveries(request: web.Request) -> web.Response:
    reject_unknown_query(request, set())
    found = await outbox.needing_comms(await actor(request))
    items: list[dict[str, Any]] = [
        {**serialise.delivery(d, d.account), "post_id": str(d.post_id)} for d in found
    ]
    return web.json_response({"items": items}, headers=NO_STORE)


@routes.post("/v1/deliveries/{delivery_id}/resolve")
async def resolve(request: web.Request) -> web.Response:
    who = await actor(request)
    body = await read_json(request, ResolveBody)
    settled = await outbox.resolve(
        who, path_int(request, "delivery_id"), action=body.action, remote_id=body.remote_id,
        now=request.app[CLOCK](),
    )  # fmt: skip
    await settled.fetch_related("account")
    await request.app[WAKE_DELIVERY]()
    return web.json_response(
        {**serialise.delivery(settled, settled.account), "post_id": str(settled.post_id)},
        headers=NO_STORE,
    )
