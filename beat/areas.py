"""Forces and neighbourhoods: syncing them from police.uk, listing, searching and locating."""

from __future__ import annotations

import asyncio
import html
import logging
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any, Protocol

import shapely
from shapely.geometry import MultiPolygon, Point, Polygon, mapping, shape
from shapely.strtree import STRtree
from shapely.validation import make_valid
from tortoise.functions import Count, Max
from tortoise.transactions import in_transaction

from beat.errors import FieldError, Invalid, NotAllowed, NotFound, SourceError
from beat.models import Force, Neighbourhood, Role, Team, User

if TYPE_CHECKING:
    from beat import area_extras

log = logging.getLogger(__name__)

CONTACT_KEYS = (
    "email", "telephone", "mobile", "fax", "web", "address", "facebook", "twitter",
    "youtube", "myspace", "bebo", "flickr", "forum", "blog", "rss",
)  # fmt: skip


FORCE_ID_MAX, AREA_ID_MAX = 64, 100  # the widths of Force.id and Neighbourhood.code


def _storable(value: str, limit: int) -> bool:
    return len(value) <= limit and "\x00" not in value


class AreaSource(Protocol):
    """Where force and neighbourhood data comes from: the police.uk API or a folder of it."""

    def describe(self, *parts: str) -> str:
        """A human name (URL or file path) for the resource at these path parts."""

    async def get_json(self, *parts: str) -> Any:
        """The decoded JSON document at `{parts}` (e.g. ("city-of-london", "neighbourhoods"))."""


# ---- parsing police.uk shapes (pure) -------------------------------------------------------

_TAG = re.compile(r"<[^>]*>")
# Inline markup goes without a trace ("<strong>12 July</strong>." is "12 July."); other tags
# (paragraphs, breaks, list items) separate words.
_INLINE_TAG = re.compile(r"</?(?:a|abbr|b|em|i|small|span|strong|sub|sup|u)\b[^>]*>", re.I)


def plain_text(value: object) -> str:
    """police.uk text fields carry HTML and entities; keep readable plain text only."""
    if not isinstance(value, str):
        return ""
    text = _TAG.sub(" ", _INLINE_TAG.sub("", value.replace("\x00", "")))
    text = html.unescape(text)
    return re.sub(r"[ \t\r\f\v]+", " ", re.sub(r"\s*\n\s*", "\n", text)).strip()


def _str(value: object, limit: int) -> str:
    # NUL is never meaningful in police.uk text, and PostgreSQL cannot store it.
    return value.replace("\x00", "").strip()[:limit] if isinstance(value, str) else ""


@dataclass(frozen=True)
class ForceData:
    id: str
    name: str
    description: str = ""
    url: str = ""
    telephone: str = ""
    engagement_methods: list[dict[str, str]] = field(default_factory=list)


@dataclass(frozen=True)
class NeighbourhoodData:
    code: str
    name: str
    description: str = ""
    population: int | None = None
    url_force: str = ""
    centre: tuple[float, float] | None = None  # (lat, lng)
    contact_details: dict[str, str] = field(default_factory=dict)
    locations: list[dict[str, object]] = field(default_factory=list)
    boundary: Polygon | MultiPolygon | None = None


def parse_force(payload: object, where: str) -> ForceData:
    if not isinstance(payload, dict) or not isinstance(payload.get("id"), str):
        raise SourceError("expected a force object with an id", location=where)
    if not _storable(payload["id"], FORCE_ID_MAX):
        raise SourceError("the force id is not usable", location=where)
    methods = []
    for item in payload.get("engagement_methods") or []:
        if isinstance(item, dict):
            methods.append(
                {
                    "title": plain_text(item.get("title")),
                    "url": _str(item.get("url"), 500),
                    "description": plain_text(item.get("description")),
                    "type": _str(item.get("type"), 40),
                }
            )
    return ForceData(
        id=payload["id"],
        name=plain_text(payload.get("name")) or payload["id"],
        description=plain_text(payload.get("description")),
        url=_str(payload.get("url"), 500),
        telephone=_str(payload.get("telephone"), 64),
        engagement_methods=methods,
    )


def parse_neighbourhood_list(payload: object, where: str) -> list[tuple[str, str]]:
    if not isinstance(payload, list):
        raise SourceError("expected a list of neighbourhoods", location=where)
    out = []
    for i, item in enumerate(payload):
        if not isinstance(item, dict) or not isinstance(item.get("id"), str) or not item["id"]:
            raise SourceError(f"item {i} has no id", location=where)
        if not _storable(item["id"], AREA_ID_MAX):
            raise SourceError(f"item {i}: the id is not a usable neighbourhood id", location=where)
        out.append((item["id"], plain_text(item.get("name")) or item["id"]))
    return out


def _float(value: object) -> float | None:
    if isinstance(value, int | float) and not isinstance(value, bool):
        return float(value)
    if isinstance(value, str):
        try:
            return float(value)
        except ValueError:
            return None
    return None


def _lat_lng(lat: object, lng: object) -> tuple[float, float] | None:
    la, ln = _float(lat), _float(lng)
    if la is None or ln is None or not (-90 <= la <= 90) or not (-180 <= ln <= 180):
        return None
    return la, ln


def parse_neighbourhood(
    payload: object, where: str, *, fallback_name: str = ""
) -> NeighbourhoodData:
    if not isinstance(payload, dict) or not isinstance(payload.get("id"), str):
        raise SourceError("expected a neighbourhood object with an id", location=where)
    centre_raw = payload.get("centre")
    centre = (
        _lat_lng(centre_raw.get("latitude"), centre_raw.get("longitude"))
        if isinstance(centre_raw, dict)
        else None
    )
    population = None
    pop_raw = payload.get("population")
    if isinstance(pop_raw, int) or (isinstance(pop_raw, str) and pop_raw.strip().isdigit()):
        population = int(pop_raw)
    contacts_raw = payload.get("contact_details")
    contacts = {}
    if isinstance(contacts_raw, dict):
        for key in CONTACT_KEYS:
            value = contacts_raw.get(key)
            if isinstance(value, str) and value.strip():
                contacts[key] = html.unescape(value.strip())[:500]
    locations: list[dict[str, object]] = []
    for loc in payload.get("locations") or []:
        if isinstance(loc, dict):
            point = _lat_lng(loc.get("latitude"), loc.get("longitude"))
            locations.append(
                {
                    "name": plain_text(loc.get("name")),
                    "type": _str(loc.get("type"), 40),
                    "address": plain_text(loc.get("address")),
                    "postcode": _str(loc.get("postcode"), 12),
                    "latitude": point[0] if point else None,
                    "longitude": point[1] if point else None,
                }
            )
    return NeighbourhoodData(
        code=payload["id"],
        name=plain_text(payload.get("name")) or fallback_name or payload["id"],
        description=plain_text(payload.get("description")),
        population=population,
        url_force=_str(payload.get("url_force"), 500),
        centre=centre,
        contact_details=contacts,
        locations=locations,
    )


def parse_boundary(payload: object, where: str) -> Polygon | MultiPolygon:
    """A police.uk boundary (a flat list of string lat/lng points) as a valid shapely area."""
    if not isinstance(payload, list):
        raise SourceError("expected a list of boundary points", location=where)
    ring = []
    for i, item in enumerate(payload):
        point = (
            _lat_lng(item.get("latitude"), item.get("longitude"))
            if isinstance(item, dict)
            else None
        )
        if point is None:
            raise SourceError(
                f"boundary point {i} is not a latitude/longitude pair", location=where
            )
        ring.append((point[1], point[0]))
    if len(ring) < 3:
        raise SourceError("a boundary needs at least three points", location=where)
    return valid_area(Polygon(ring), where)


def valid_area(geometry: Any, where: str) -> Polygon | MultiPolygon:
    """Repair self-intersections (police.uk rings have them) and keep only the areal parts."""
    if not geometry.is_valid:
        geometry = make_valid(geometry)
    polygons: list[Polygon] = []
    if isinstance(geometry, Polygon):
        polygons = [geometry]
    elif isinstance(geometry, MultiPolygon):
        polygons = list(geometry.geoms)
    elif hasattr(geometry, "geoms"):
        for part in geometry.geoms:
            if isinstance(part, Polygon):
                polygons.append(part)
            elif isinstance(part, MultiPolygon):
                polygons.extend(part.geoms)
    polygons = [p for p in polygons if not p.is_empty and p.area > 0]
    if not polygons:
        raise SourceError("the boundary encloses no area", location=where)
    return polygons[0] if len(polygons) == 1 else MultiPolygon(polygons)


# ---- sync ----------------------------------------------------------------------------------

Progress = Callable[[int, int], None]


@dataclass(frozen=True)
class SyncResult:
    force: str
    created: int
    updated: int
    retired: int
    total: int
    extras_changed: int = 0  # areas whose priorities or events changed


async def _fetch_neighbourhood(
    source: AreaSource, force_id: str, code: str, name: str
) -> NeighbourhoodData:
    details_raw = await source.get_json(force_id, code)
    data = parse_neighbourhood(details_raw, source.describe(force_id, code), fallback_name=name)
    if data.code != code:
        raise SourceError(
            f"expected neighbourhood {code!r}, got {data.code!r}",
            location=source.describe(force_id, code),
        )
    boundary_raw = await source.get_json(force_id, code, "boundary")
    boundary = parse_boundary(boundary_raw, source.describe(force_id, code, "boundary"))
    return NeighbourhoodData(**{**data.__dict__, "boundary": boundary})


async def sync_force(
    source: AreaSource,
    force_id: str,
    *,
    now: datetime,
    progress: Progress | None = None,
    concurrency: int = 8,
) -> SyncResult:
    """Load a force with its neighbourhoods and boundaries; re-running updates in place.

    Everything is fetched and checked first, then written in one transaction: a bad
    document leaves the database as it was. Each area's priorities and events come too.
    """
    from beat import area_extras  # it builds on this module's parsing helpers

    force = parse_force(await source.get_json(force_id), source.describe(force_id))
    if force.id != force_id:
        raise SourceError(
            f"expected force {force_id!r}, got {force.id!r}", location=source.describe(force_id)
        )
    listing = parse_neighbourhood_list(
        await source.get_json(force_id, "neighbourhoods"),
        source.describe(force_id, "neighbourhoods"),
    )
    total = len(listing)
    done = 0
    if progress:
        progress(0, total)
    gate = asyncio.Semaphore(concurrency)
    extras: dict[str, area_extras.Extras] = {}

    async def fetch(code: str, name: str) -> NeighbourhoodData:
        nonlocal done
        async with gate:
            data = await _fetch_neighbourhood(source, force_id, code, name)
            extras[code] = await area_extras.fetch_extras(source, force_id, code)
        done += 1
        if progress:
            progress(done, total)
        return data

    fetched = await asyncio.gather(*(fetch(code, name) for code, name in listing))
    return await _store(force, fetched, now, extras)


async def _store(
    force: ForceData,
    areas: Sequence[NeighbourhoodData],
    now: datetime,
    extras: Mapping[str, area_extras.Extras],
) -> SyncResult:
    from beat import area_extras

    created = updated = 0
    async with in_transaction():
        await Force.update_or_create(
            id=force.id,
            defaults={
                "name": force.name,
                "description": force.description,
                "url": force.url,
                "telephone": force.telephone,
                "engagement_methods": force.engagement_methods,
            },
        )
        existing = {n.code: n for n in await Neighbourhood.filter(force_id=force.id)}
        teams = {t.code: t for t in await Team.filter(force_id=force.id)}
        for data in areas:
            team = teams.get(data.code)
            if team is None:
                team = await Team.create(force_id=force.id, code=data.code, name=data.name)
                teams[data.code] = team
            boundary = mapping(data.boundary) if data.boundary is not None else None
            values: dict[str, Any] = {
                "name": data.name,
                "description": data.description,
                "population": data.population,
                "url_force": data.url_force,
                "centre_lat": data.centre[0] if data.centre else None,
                "centre_lng": data.centre[1] if data.centre else None,
                "contact_details": data.contact_details,
                "locations": data.locations,
                "retired_at": None,
            }
            row = existing.get(data.code)
            if row is None:
                await Neighbourhood.create(
                    force_id=force.id, code=data.code, team=team, boundary=_json_geometry(boundary),
                    boundary_updated_at=now, **values,
                )  # fmt: skip
                created += 1
                continue
            if _json_geometry(boundary) != row.boundary:
                values["boundary"] = _json_geometry(boundary)
                values["boundary_updated_at"] = now
            if row.team_id is None:
                values["team_id"] = team.id
            await Neighbourhood.filter(id=row.id).update(**values)
            updated += 1
        listed = {a.code for a in areas}
        gone = [
            code for code, row in existing.items() if code not in listed and row.retired_at is None
        ]
        if gone:
            await Neighbourhood.filter(force_id=force.id, code__in=gone).update(
                retired_at=now, boundary_updated_at=now
            )
        # Crimes follow the boundaries made, reshaped or retired by this sync.
        if await Neighbourhood.filter(force_id=force.id, boundary_updated_at=now).exists():
            from beat import crimes

            await crimes.reassign_force(force.id, now)
        extras_changed = await area_extras.store_extras(force.id, extras, now)
    log.info(
        "areas synced",
        extra={
            "force": force.id,
            "areas_new": created,
            "areas_updated": updated,
            "areas_retired": len(gone),
        },
    )
    return SyncResult(force.id, created, updated, len(gone), len(areas), len(extras_changed))


def _json_geometry(geometry: Any) -> dict[str, object] | None:
    """GeoJSON with plain lists (not tuples), so comparisons with stored JSON are exact."""
    if geometry is None:
        return None

    def lists(value: Any) -> Any:
        if isinstance(value, tuple | list):
            return [lists(v) for v in value]
        return value

    return {"type": geometry["type"], "coordinates": lists(geometry["coordinates"])}


# ---- reading -------------------------------------------------------------------------------


# What a list of areas shows: never the boundary, which can be thousands of points.
SUMMARY = ("id", "force_id", "code", "name", "centre_lat", "centre_lng", "team_id")


async def list_forces() -> list[Force]:
    return await Force.all().order_by("name")


async def get_force(force_id: str) -> Force:
    force = await Force.get_or_none(id=force_id) if _storable(force_id, FORCE_ID_MAX) else None
    if force is None:
        raise NotFound(f"no force {force_id!r}")
    return force


async def list_neighbourhoods(force_id: str) -> list[Neighbourhood]:
    await get_force(force_id)
    return (
        await Neighbourhood.filter(force_id=force_id, retired_at=None)
        .only(*SUMMARY)
        .order_by("name")
    )


async def get_neighbourhood(force_id: str, code: str) -> Neighbourhood:
    if not (_storable(force_id, FORCE_ID_MAX) and _storable(code, AREA_ID_MAX)):
        raise NotFound(f"no neighbourhood {code!r} in force {force_id!r}")
    area = await Neighbourhood.get_or_none(
        force_id=force_id, code=code, retired_at=None
    ).select_related("force", "team")
    if area is None:
        raise NotFound(f"no neighbourhood {code!r} in force {force_id!r}")
    return area


SEARCH_MIN, SEARCH_MAX, SEARCH_LIMIT = 2, 100, 25


async def search(
    query: str, *, force_id: str | None = None, limit: int = SEARCH_LIMIT
) -> list[Neighbourhood]:
    q = " ".join(query.split())
    if not SEARCH_MIN <= len(q) <= SEARCH_MAX:
        raise Invalid.field("q", f"must be {SEARCH_MIN} to {SEARCH_MAX} characters")
    filters: dict[str, Any] = {"name__icontains": q, "retired_at": None}
    if force_id:
        filters["force_id"] = force_id
    rows = (
        await Neighbourhood.filter(**filters).only(*SUMMARY).order_by("name", "force_id").limit(200)
    )
    # Names that start with the query come first: "Bish" finds Bishopsgate before "Old Bishops".
    rows.sort(key=lambda n: (not n.name.lower().startswith(q.lower()), n.name.lower(), n.force_id))
    return rows[:limit]


def check_point(lat: float, lng: float) -> None:
    errors = []
    if not -90 <= lat <= 90:
        errors.append(("lat", "must be between -90 and 90"))
    if not -180 <= lng <= 180:
        errors.append(("lng", "must be between -180 and 180"))
    if errors:
        raise Invalid("the point is not on Earth", [FieldError(f, r) for f, r in errors])


class AreaLocator:
    """Point-in-boundary lookup over every live neighbourhood, with an STRtree.

    The tree is a per-process cache of database state: it is rebuilt whenever the
    boundaries' revision (count and newest change) differs from the one it was built at.
    """

    def __init__(self) -> None:
        self._revision: tuple[int, datetime | None] | None = None
        self._tree: STRtree | None = None
        self._ids: list[int] = []
        self._geoms: list[Any] = []
        self._lock = asyncio.Lock()

    async def _current_revision(self) -> tuple[int, datetime | None]:
        row = await (
            Neighbourhood.filter(retired_at=None, boundary__isnull=False)
            .annotate(n=Count("id"), newest=Max("boundary_updated_at"))
            .first()
            .values("n", "newest")
        )
        if not row:
            return (0, None)
        return (int(row["n"] or 0), row["newest"])

    async def _ensure(self) -> None:
        revision = await self._current_revision()
        if revision == self._revision:
            return
        async with self._lock:
            if revision == self._revision:
                return
            rows = await Neighbourhood.filter(retired_at=None, boundary__isnull=False).values_list(
                "id", "boundary"
            )
            ids, geoms = [], []
            for row_id, geojson in rows:
                try:
                    geom = shape(geojson)
                except (
                    ValueError,
                    TypeError,
                    KeyError,
                    AttributeError,
                    shapely.errors.GEOSException,
                ):
                    log.warning("skipping unreadable boundary", extra={"neighbourhood_id": row_id})
                    continue
                shapely.prepare(geom)
                ids.append(row_id)
                geoms.append(geom)
            self._ids, self._geoms = ids, geoms
            self._tree = STRtree(geoms) if geoms else None
            self._revision = revision

    async def locate(self, lat: float, lng: float) -> Neighbourhood:
        check_point(lat, lng)
        await self._ensure()
        point = Point(lng, lat)
        hits: list[int] = []
        if self._tree is not None:
            for index in self._tree.query(point, predicate="intersects"):
                hits.append(self._ids[int(index)])
        if not hits:
            raise NotFound("no neighbourhood covers this point")
        # On a shared edge two areas touch the point; prefer the smaller (more specific) one.
        candidates = await Neighbourhood.filter(id__in=hits).select_related("force", "team")
        by_id = dict(zip(self._ids, self._geoms, strict=True))
        candidates.sort(key=lambda n: (by_id[n.id].area, n.force_id, n.code))
        return candidates[0]


async def postable_areas(actor: User) -> list[Neighbourhood]:
    """The neighbourhoods a member of staff works in: an officer's team's, or their force's."""
    if actor.role == Role.RESIDENT or actor.force_id is None:
        raise NotAllowed("only police staff have working areas")
    if actor.role == Role.OFFICER:
        if actor.team_id is None:
            return []
        found = Neighbourhood.filter(team_id=actor.team_id, retired_at=None)
    else:
        found = Neighbourhood.filter(force_id=actor.force_id, retired_at=None)
    return await found.only(*SUMMARY).order_by("name")
