"""Teams of a force and the neighbourhoods each covers; force administrators change them.

Adding neighbourhoods to a team takes them from whichever team had them: every live
neighbourhood stays covered by exactly one team.
"""

from __future__ import annotations

from typing import Any

from aiohttp import web
from pydantic import Field

from beat import teams
from beat.api import serialise
from beat.api.auth import actor
from beat.api.inputs import Body, path_str, read_json
from beat.areas import AREA_ID_MAX, FORCE_ID_MAX
from beat.errors import Invalid

routes = web.RouteTableDef()


class CreateTeamBody(Body):
    id: str = Field(min_length=1, max_length=100)
    name: str = Field(min_length=1, max_length=200)


class AssignBody(Body):
    neighbourhoods: list[str] = Field(min_length=1, max_length=500)


def _team(view: teams.TeamView) -> dict[str, Any]:
    return {
        "id": view.team.code,
        "name": view.team.name,
        "neighbourhoods": [serialise.area_summary(n) for n in view.neighbourhoods],
    }


@routes.get("/v1/forces/{force}/teams")
async def list_teams(request: web.Request) -> web.Response:
    found = await teams.list_teams(
        await actor(request), path_str(request, "force", max_length=FORCE_ID_MAX)
    )
    return web.json_response({"items": [_team(v) for v in found]})


@routes.post("/v1/forces/{force}/teams")
async def create_team(request: web.Request) -> web.Response:
    who = await actor(request)
    body = await read_json(request, CreateTeamBody)
    force = path_str(request, "force", max_length=FORCE_ID_MAX)
    view = await teams.create_team(who, force, code=body.id, name=body.name)
    return web.json_response(_team(view), status=201)


@routes.post("/v1/forces/{force}/teams/{team}/neighbourhoods")
async def assign(request: web.Request) -> web.Response:
    who = await actor(request)
    body = await read_json(request, AssignBody)
    force = path_str(request, "force", max_length=FORCE_ID_MAX)
    team = path_str(request, "team", max_length=AREA_ID_MAX)
    if any(len(code) > AREA_ID_MAX for code in body.neighbourhoods):
        raise Invalid.field("/neighbourhoods", f"ids are at most {AREA_ID_MAX} characters")
    view = await teams.assign_neighbourhoods(who, force, team, body.neighbourhoods)
    return web.json_response(_team(view))
