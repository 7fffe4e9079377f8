"""Forces and neighbourhoods: lists, details with boundary, locate and search."""

from __future__ import annotations

from aiohttp import web

from beat import areas
from beat.api import serialise
from beat.api.inputs import path_str, query_float, query_str, reject_unknown_query
from beat.api.keys import LOCATOR
from beat.areas import AREA_ID_MAX, FORCE_ID_MAX

routes = web.RouteTableDef()

PUBLIC_CACHE = {"Cache-Control": "public, max-age=300"}


@routes.get("/v1/forces")
async def forces(request: web.Request) -> web.Response:
    reject_unknown_query(request, set())
    found = await areas.list_forces()
    return web.json_response(
        {"items": [serialise.force_summary(f) for f in found]}, headers=PUBLIC_CACHE
    )


@routes.get("/v1/forces/{force}")
async def force(request: web.Request) -> web.Response:
    found = await areas.get_force(path_str(request, "force", max_length=FORCE_ID_MAX))
    return web.json_response(serialise.force(found), headers=PUBLIC_CACHE)


@routes.get("/v1/forces/{force}/neighbourhoods")
async def neighbourhoods(request: web.Request) -> web.Response:
    reject_unknown_query(request, set())
    found = await areas.list_neighbourhoods(path_str(request, "force", max_length=FORCE_ID_MAX))
    return web.json_response(
        {"items": [serialise.area_summary(n) for n in found]}, headers=PUBLIC_CACHE
    )


@routes.get("/v1/areas/locate")
async def locate(request: web.Request) -> web.Response:
    reject_unknown_query(request, {"lat", "lng"})
    lat, lng = query_float(request, "lat"), query_float(request, "lng")
    found = await request.app[LOCATOR].locate(lat, lng)
    # The answer says which area, never echoes the point: callers may send an officer's GPS.
    return web.json_response(serialise.area_summary(found), headers={"Cache-Control": "no-store"})


@routes.get("/v1/areas/search")
async def search(request: web.Request) -> web.Response:
    reject_unknown_query(request, {"q", "force"})
    q = query_str(request, "q")
    assert q is not None
    force_id = query_str(request, "force", required=False, max_length=64)
    found = await areas.search(q, force_id=force_id)
    return web.json_response({"items": [serialise.area_summary(n) for n in found]})


@routes.get("/v1/areas/{force}/{neighbourhood}")
async def area(request: web.Request) -> web.Response:
    found = await areas.get_neighbourhood(
        path_str(request, "force", max_length=FORCE_ID_MAX),
        path_str(request, "neighbourhood", max_length=AREA_ID_MAX),
    )
    return web.json_response(serialise.area(found), headers=PUBLIC_CACHE)
