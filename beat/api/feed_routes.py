"""The area feed, the merged feed of followed areas, crime statistics, maps, comparisons, Atom."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

from aiohttp import web

from beat import atom, crimefiles, crimestats, feed
from beat.api import follow_routes, serialise
from beat.api.inputs import path_str, query_str, reject_unknown_query
from beat.api.keys import CLOCK, SETTINGS
from beat.api.problems import BadRequest
from beat.areas import AREA_ID_MAX, FORCE_ID_MAX
from beat.errors import Invalid
from beat.feed import FeedAreas, FeedItem, FeedPage, PageCache, Position
from beat.models import Force

routes = web.RouteTableDef()

PUBLIC = "public, max-age=60"
PRIVATE = "private, no-cache"  # the caller's own feed: revalidate with the ETag every time
GEOJSON = "application/geo+json"
ATOM_ENTRIES = 50


@dataclass(frozen=True)
class Rendered:
    body: bytes
    content_type: str
    charset: str | None = None


FEED_CACHE: web.AppKey[PageCache[Rendered]] = web.AppKey("feed_cache")


def new_cache() -> PageCache[Rendered]:
    return PageCache[Rendered]()


# ---- the caller, for /v1/me/feed ------------------------------------------------------------


async def calling_subscriber(request: web.Request) -> int | None:
    """The subscriber whose follows make /v1/me/feed: a signed-in caller or a registered
    device (None: a signed-in user who follows nothing yet)."""
    found = await follow_routes.subscriber_for_request(request)
    return found.id if found is not None else None


# ---- feeds ----------------------------------------------------------------------------------


def _area_params(request: web.Request) -> tuple[str, str]:
    return (
        path_str(request, "force", max_length=FORCE_ID_MAX),
        path_str(request, "neighbourhood", max_length=AREA_ID_MAX),
    )


def _page_params(request: web.Request) -> tuple[str | None, Position | None, int]:
    reject_unknown_query(request, {"cursor", "limit"})
    text = query_str(request, "cursor", required=False, max_length=feed.CURSOR_MAX)
    cursor = feed.decode_cursor(text) if text is not None else None
    limit = feed.parse_limit(query_str(request, "limit", required=False, max_length=10))
    return text, cursor, limit


async def _cached(
    request: web.Request,
    found: FeedAreas,
    key: tuple[object, ...],
    cache_control: str,
    make: Callable[[], Any],
) -> web.Response:
    """Answer 304, or the page from this process's cache, or a fresh one (then cached).

    `found.token` was read from the database on this request, before anything else: a
    cached page made under another token is stale and is made again.
    """
    tag = feed.etag(found.token, *key)
    headers = {"ETag": tag, "Cache-Control": cache_control}
    if feed.etag_matches(request.headers.get("If-None-Match"), tag):
        return web.Response(status=304, headers=headers)
    cache = request.app[FEED_CACHE]
    rendered = cache.get(key, found.token)
    if rendered is None:
        rendered = await make()
        cache.put(key, found.token, rendered)
    return web.Response(
        body=rendered.body,
        content_type=rendered.content_type,
        charset=rendered.charset,
        headers=headers,
    )


def _json(value: object) -> Rendered:
    return Rendered(json.dumps(value, ensure_ascii=False).encode(), "application/json")


@routes.get("/v1/areas/{force}/{neighbourhood}/feed")
async def area_feed(request: web.Request) -> web.Response:
    text, cursor, limit = _page_params(request)
    found = await feed.area(*_area_params(request))
    now = request.app[CLOCK]()
    key = ("area", found.ids, text, limit, feed.upcoming_cutoff(now).isoformat())

    async def make() -> Rendered:
        page = await feed.page(found, cursor=cursor, limit=limit, now=now)
        return _json({"area": serialise.area_summary(found.areas[0]), **feed_page(page)})

    return await _cached(request, found, key, PUBLIC, make)


@routes.get("/v1/me/feed")
async def my_feed(request: web.Request) -> web.Response:
    text, cursor, limit = _page_params(request)
    found = await feed.followed(await calling_subscriber(request))
    now = request.app[CLOCK]()
    key = ("me", found.ids, text, limit, feed.upcoming_cutoff(now).isoformat())

    async def make() -> Rendered:
        page = await feed.page(found, cursor=cursor, limit=limit, now=now)
        return _json({"areas": [serialise.area_summary(a) for a in found.areas], **feed_page(page)})

    return await _cached(request, found, key, PRIVATE, make)


@routes.get("/areas/{force}/{neighbourhood}/feed.atom")
async def atom_feed(request: web.Request) -> web.Response:
    reject_unknown_query(request, set())
    found = await feed.area(*_area_params(request))
    now = request.app[CLOCK]()
    key = ("atom", found.ids, feed.upcoming_cutoff(now).isoformat())

    async def make() -> Rendered:
        page = await feed.page(found, cursor=None, limit=ATOM_ENTRIES, now=now)
        area = found.areas[0]
        force = await Force.get(id=area.force_id)
        where = atom.AtomArea(area, force.name, request.app[SETTINGS].public_base_url)
        return Rendered(atom.render(where, page.items), atom.MEDIA_TYPE, "utf-8")

    return await _cached(request, found, key, PUBLIC, make)


# ---- crime statistics, points, comparison, outcomes ----------------------------------------


def _month(request: web.Request) -> str | None:
    value = query_str(request, "month", required=False, max_length=40)
    return crimestats.parse_month(value) if value is not None else None


@routes.get("/v1/areas/{force}/{neighbourhood}/crime-stats")
async def crime_stats(request: web.Request) -> web.Response:
    reject_unknown_query(request, {"month"})
    month = _month(request)
    force_id, code = _area_params(request)
    found = await feed.area(force_id, code)
    today = request.app[CLOCK]().date()
    key = ("crime-stats", found.ids, month, today.isoformat()[:7])

    async def make() -> Rendered:
        stats = await crimestats.area_stats(force_id, code, month, today=today)
        return _json(area_stats(stats))

    return await _cached(request, found, key, PUBLIC, make)


@routes.get("/v1/areas/{force}/{neighbourhood}/crimes.geojson")
async def crime_points(request: web.Request) -> web.Response:
    reject_unknown_query(request, {"month"})
    month = _month(request)
    found = await crimestats.area_points(*_area_params(request), month)
    return web.Response(
        text=json.dumps(geojson(found), ensure_ascii=False),
        content_type=GEOJSON,
        headers={"Cache-Control": PUBLIC},
    )


@routes.get("/v1/forces/compare")
async def compare_forces(request: web.Request) -> web.Response:
    reject_unknown_query(request, {"month", "category"})
    month = _month(request)
    slug = crimestats.category(query_str(request, "category", required=False, max_length=40))
    found = await crimestats.compare_forces(month, slug)
    return web.json_response(comparison(found), headers={"Cache-Control": PUBLIC})


@routes.get("/v1/crimes/{crime_id}/outcomes")
async def crime_outcomes(request: web.Request) -> web.Response:
    reject_unknown_query(request, set())
    try:
        crime_id = crimestats.parse_crime_id(request.match_info["crime_id"])
    except Invalid as exc:
        raise BadRequest(exc.detail) from exc
    found = await crimestats.crime_history(crime_id)
    return web.json_response(history(found), headers={"Cache-Control": PUBLIC})


# ---- serialisers ----------------------------------------------------------------------------


def _stats_path(force_id: str, code: str, month: str) -> str:
    return f"{serialise.area_path(force_id, code)}/crime-stats?month={quote(month)}"


def feed_item(item: FeedItem) -> dict[str, Any]:
    body: dict[str, Any] = {
        "type": item.type,
        "id": item.id,
        "time": serialise.when(item.time),
        "areas": [serialise.area_summary(a) for a in item.areas],
    }
    if item.post is not None:
        body["post"] = serialise.public_post(item.post)
    elif item.crime_stats is not None:
        card, (area,) = item.crime_stats, item.areas
        body["crime_stats"] = {
            "month": card.counts.month,
            "total": card.counts.total,
            "by_category": card.counts.by_category,
            "previous_total": card.previous_total,
            "links": {"stats": _stats_path(area.force_id, area.code, card.counts.month)},
        }
    elif item.priority is not None:
        p = item.priority
        body["priority"] = {
            "issue": p.issue,
            "issue_date": serialise.when(p.issue_date),
            "action": p.action or None,
            "action_date": serialise.when(p.action_date),
        }
    elif item.event is not None:
        e = item.event
        body["event"] = {
            "title": e.title,
            "kind": e.kind or None,
            "description": e.description or None,
            "address": e.address or None,
            "starts_at": serialise.when(e.starts_at),
            "ends_at": serialise.when(e.ends_at),
            "contact_details": e.contact_details,
        }
    return body


def feed_page(page: FeedPage) -> dict[str, Any]:
    return {
        "items": [feed_item(i) for i in page.items],
        "next_cursor": page.next_cursor,
        "attribution": crimestats.ATTRIBUTION,
    }


def _counts(value: crimestats.MonthCounts | None) -> dict[str, Any] | None:
    if value is None:
        return None
    return {"month": value.month, "total": value.total, "by_category": value.by_category}


def area_stats(stats: crimestats.AreaStats) -> dict[str, Any]:
    return {
        "area": serialise.area_summary(stats.area),
        **(_counts(stats.current) or {}),
        "previous": _counts(stats.previous),
        "year_before": _counts(stats.year_before),
        "top_locations": [{"location": name, "count": n} for name, n in stats.top_locations],
        "data_month": {
            "month": stats.current.month,
            "arrived_at": serialise.when(stats.arrived_at),
            "lag_months": stats.lag_months,
        },
        "available_months": stats.available_months,
        "approximate_locations": crimestats.APPROXIMATE,
        "attribution": crimestats.ATTRIBUTION,
        "licence": crimestats.LICENCE_URL,
    }


def geojson(found: crimestats.AreaPoints) -> dict[str, Any]:
    """RFC 7946: one Feature per snap point; the collection's extra members say what they are."""
    return {
        "type": "FeatureCollection",
        "features": [
            {
                "type": "Feature",
                "geometry": {"type": "Point", "coordinates": [p.lng, p.lat]},
                "properties": {
                    "location": p.location,
                    "total": p.total,
                    "by_category": p.by_category,
                    "approximate": True,
                },
            }
            for p in found.points
        ],
        "area": serialise.area_summary(found.area),
        "month": found.month,
        "approximate_locations": crimestats.APPROXIMATE,
        "attribution": crimestats.ATTRIBUTION,
        "licence": crimestats.LICENCE_URL,
    }


def comparison(found: crimestats.Comparison) -> dict[str, Any]:
    return {
        "month": found.month,
        "category": found.category,
        "months": found.months,
        "forces": [
            {
                "force": serialise.force_summary(row.force),
                "count": row.count,
                "trend": [{"month": m, "count": n} for m, n in row.trend],
            }
            for row in found.forces
        ],
        "attribution": crimestats.ATTRIBUTION,
        "licence": crimestats.LICENCE_URL,
    }


def history(found: crimestats.CrimeHistory) -> dict[str, Any]:
    crime = found.crime
    location = None
    if crime is not None and crime.lat is not None and crime.lng is not None:
        location = {
            "description": crime.location,
            "lat": crime.lat,
            "lng": crime.lng,
            "approximate": True,
        }
    last = None
    if crime is not None and crime.outcome:
        last = {
            "outcome": crime.outcome,
            "name": crimefiles.outcome_name(crime.outcome),
            "month": crime.outcome_month or None,
        }
    return {
        "crime_id": found.crime_id,
        "force": crime.force_id if crime is not None else None,
        "category": crime.category if crime is not None else None,
        "category_name": crimefiles.category_name(crime.category) if crime is not None else None,
        "month": crime.month if crime is not None else None,
        "location": location,
        "area": serialise.area_summary(found.area) if found.area is not None else None,
        "last_outcome": last,
        "outcomes": [
            {"month": o.month, "outcome": o.outcome, "name": crimefiles.outcome_name(o.outcome)}
            for o in found.outcomes
        ],
        "approximate_locations": crimestats.APPROXIMATE,
        "attribution": crimestats.ATTRIBUTION,
        "licence": crimestats.LICENCE_URL,
    }
