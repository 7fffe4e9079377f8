"""The data.police.uk JSON API over aiohttp, kept within its published rate limit."""

from __future__ import annotations

import asyncio
import logging
import math
import random
import time
from typing import Any
from urllib.parse import quote

import aiohttp
from shapely.geometry import MultiPolygon, Polygon, box
from shapely.geometry.base import BaseGeometry
from yarl import URL

from beat.errors import SourceError, SourceMissing

log = logging.getLogger(__name__)

# police.uk: "15 requests per second with a burst of 30" (leaky bucket, 429 above it).
RATE_PER_SECOND = 15.0
BURST = 30
# police.uk answers 400 to a GET "longer than 4094 characters"; longer queries go by POST.
GET_LIMIT = 4094
# A police.uk neighbourhood boundary can have thousands of vertices with 13 decimals. Outlines
# above this many points are simplified (see `outline`): a POST body of ~8 kB instead of ~60 kB.
MAX_OUTLINE_POINTS = 400
# A polygon with more than 10,000 crimes in the month gets a 503; it is cut in two and each half
# asked again, at most this many times deep (2**8 = 256 pieces).
MAX_SPLIT_DEPTH = 8
# No square kilometre of England holds 10,000 crimes a month; a piece this small (in degrees of
# latitude, ~110 m) that still answers 503 means police.uk is down, not that the area is busy.
MIN_SPLIT_SIDE = 0.001


class TokenBucket:
    """A leaky-bucket budget shared by every request of one client."""

    def __init__(self, rate: float = RATE_PER_SECOND, burst: int = BURST) -> None:
        self.rate = rate
        self.capacity = float(burst)
        self.tokens = float(burst)
        self.updated = time.monotonic()
        self._lock = asyncio.Lock()

    async def take(self) -> None:
        async with self._lock:
            while True:
                now = time.monotonic()
                self.tokens = min(self.capacity, self.tokens + (now - self.updated) * self.rate)
                self.updated = now
                if self.tokens >= 1:
                    self.tokens -= 1
                    return
                await asyncio.sleep((1 - self.tokens) / self.rate)


class _TooMany(Exception):
    """police.uk's 503 for a custom area: more than 10,000 crimes in it."""


# ---- polygons for the `poly` parameter (pure) ----------------------------------------------


def outlines(area: BaseGeometry) -> list[Polygon]:
    """The outer rings to ask police.uk about: one per part, holes ignored, simplified if huge.

    `poly` is a single ring, so a MultiPolygon is asked part by part and a hole's crimes come
    back with the rest. Callers place each crime by their own point-in-polygon test, so a
    slightly larger outline is harmless, and a smaller one would lose crimes.
    """
    if isinstance(area, Polygon):
        parts = [area]
    elif isinstance(area, MultiPolygon):
        parts = list(area.geoms)
    else:
        raise SourceError(f"cannot ask police.uk about a {area.geom_type}")
    return [outline(p) for p in parts if not p.is_empty]


def outline(polygon: Polygon) -> Polygon:
    """The polygon's outer ring, with at most MAX_OUTLINE_POINTS points, covering the original.

    A ring that is too detailed is buffered outwards by 2t (mitred, so corners stay corners)
    and then simplified with tolerance t (Douglas-Peucker moves the line by at most t), so the
    result still covers the original boundary, with t to spare; t starts near a metre and
    doubles until the ring is small enough. The strip gained along the edge is at most 3t wide.
    """
    ring = Polygon(polygon.exterior)
    if len(ring.exterior.coords) <= MAX_OUTLINE_POINTS:
        return ring
    tolerance = 1e-5  # degrees: about 1 m of latitude
    simpler = ring
    while len(simpler.exterior.coords) > MAX_OUTLINE_POINTS and tolerance < 0.01:
        grown = ring.buffer(2 * tolerance, join_style="mitre")
        simpler = Polygon(_largest(grown).exterior).simplify(tolerance)
        simpler = Polygon(_largest(simpler).exterior)
        tolerance *= 2
    if len(simpler.exterior.coords) > MAX_OUTLINE_POINTS:  # a pathological shape: its hull
        simpler = Polygon(ring.convex_hull.exterior)
    return simpler


def _largest(geometry: BaseGeometry) -> Polygon:
    if isinstance(geometry, Polygon):
        return geometry
    polygons = [g for g in getattr(geometry, "geoms", []) if isinstance(g, Polygon)]
    if not polygons:
        raise SourceError("the area vanished while it was simplified")
    return max(polygons, key=lambda p: p.area)


def _coordinate(value: float) -> str:
    # Snap points have 6 decimals (~0.1 m); more would only lengthen the query.
    return f"{value:.6f}".rstrip("0").rstrip(".")


def poly_param(polygon: Polygon) -> str:
    """`lat,lng:lat,lng:...` (latitude first, unlike GeoJSON); police.uk closes the ring itself."""
    points: list[str] = []
    for lng, lat in polygon.exterior.coords[:-1]:
        point = f"{_coordinate(lat)},{_coordinate(lng)}"
        if not points or points[-1] != point:
            points.append(point)
    if len(points) > 1 and points[0] == points[-1]:
        points.pop()
    return ":".join(points)


def halves(polygon: Polygon) -> list[Polygon]:
    """The polygon clipped by the two halves of its bounding box, cut across its longer side.

    The halves share the cut line, so a crime on it comes back twice: callers de-duplicate.
    """
    min_x, min_y, max_x, max_y = polygon.bounds
    # A degree of longitude is shorter than one of latitude away from the equator.
    width = (max_x - min_x) * math.cos(math.radians((min_y + max_y) / 2))
    if width >= max_y - min_y:
        mid = (min_x + max_x) / 2
        boxes = [box(min_x, min_y, mid, max_y), box(mid, min_y, max_x, max_y)]
    else:
        mid = (min_y + max_y) / 2
        boxes = [box(min_x, min_y, max_x, mid), box(min_x, mid, max_x, max_y)]
    pieces: list[Polygon] = []
    for half in boxes:
        clipped = polygon.intersection(half)
        parts = [clipped] if isinstance(clipped, Polygon) else getattr(clipped, "geoms", [])
        pieces.extend(p for p in parts if isinstance(p, Polygon) and p.area > 0)
    return pieces


def _small(polygon: Polygon) -> bool:
    min_x, min_y, max_x, max_y = polygon.bounds
    width = (max_x - min_x) * math.cos(math.radians((min_y + max_y) / 2))
    return bool(max(width, max_y - min_y) < MIN_SPLIT_SIDE)


def _record_key(record: dict[str, Any]) -> object:
    # The API's `id` is unique within a response and across the pieces of one query.
    value = record.get("id")
    return value if isinstance(value, int) and not isinstance(value, bool) else repr(record)


# ---- the client ----------------------------------------------------------------------------


class PoliceUkClient:
    """Asks police.uk within its budget, retrying 429 and 5xx with backoff; failures become
    SourceError (SourceMissing for a 404), naming the URL."""

    def __init__(
        self,
        session: aiohttp.ClientSession,
        base_url: str,
        *,
        timeout: float = 60.0,
        retries: int = 4,
        backoff: float = 0.5,
        bucket: TokenBucket | None = None,
        max_split_depth: int = MAX_SPLIT_DEPTH,
    ) -> None:
        self.session = session
        self.base_url = base_url.rstrip("/")
        self.timeout = aiohttp.ClientTimeout(total=timeout)
        self.retries = retries
        self.backoff = backoff
        self.bucket = bucket or TokenBucket()
        self.max_split_depth = max_split_depth

    def describe(self, *parts: str) -> str:
        return self.base_url + "/" + "/".join(quote(p, safe="") for p in parts)

    async def get_json(self, *parts: str) -> Any:
        url = self.describe(*parts)
        return await self._send("GET", URL(url, encoded=True), where=url)

    def describe_crimes(self, month: str, category: str = "all-crime") -> str:
        return f"{self.describe('crimes-street', category)}?date={month}"

    async def street_crimes(
        self, area: BaseGeometry, month: str, *, category: str = "all-crime"
    ) -> list[dict[str, Any]]:
        """Street-level crimes in `area` (a Polygon or MultiPolygon, lng/lat) for one month.

        The outline is sent as `poly`, by GET while the URL fits police.uk's limit and by POST
        (form-encoded) beyond it. A 503 for a custom area means "more than 10,000 crimes": the
        polygon is cut in two and each half asked, recursively, and the records de-duplicated
        by their `id`. The result covers the area and may hold crimes just outside it.
        """
        found: dict[object, dict[str, Any]] = {}
        for polygon in outlines(area):
            await self._crimes_in(polygon, month, category, 0, found)
        return list(found.values())

    async def _crimes_in(
        self,
        polygon: Polygon,
        month: str,
        category: str,
        depth: int,
        found: dict[object, dict[str, Any]],
    ) -> None:
        try:
            records = await self._poly_query(polygon, month, category)
        except _TooMany as exc:
            where = str(exc)
            if depth >= self.max_split_depth or _small(polygon):
                raise SourceError(
                    f"HTTP 503 still after cutting the area in two {depth} times: "
                    "police.uk is unavailable",
                    location=where,
                ) from None
            log.info("police.uk area split", extra={"url": where, "depth": depth + 1})
            for piece in halves(polygon):
                await self._crimes_in(piece, month, category, depth + 1, found)
            return
        for record in records:
            found.setdefault(_record_key(record), record)

    async def _poly_query(
        self, polygon: Polygon, month: str, category: str
    ) -> list[dict[str, Any]]:
        poly = poly_param(polygon)
        endpoint = URL(self.describe("crimes-street", category), encoded=True)
        url = endpoint.with_query(poly=poly, date=month)
        points = poly.count(":") + 1
        if len(str(url)) <= GET_LIMIT:
            where = f"{self.describe_crimes(month, category)} (GET, polygon of {points} points)"
            payload = await self._send("GET", url, where=where, poly=True)
        else:
            where = f"{self.describe_crimes(month, category)} (POST, polygon of {points} points)"
            payload = await self._send(
                "POST", endpoint, where=where, poly=True, form={"poly": poly, "date": month}
            )
        if not isinstance(payload, list) or not all(isinstance(r, dict) for r in payload):
            raise SourceError("expected a list of crimes", location=where)
        return payload

    async def _send(
        self,
        method: str,
        url: URL,
        *,
        where: str,
        poly: bool = False,
        form: dict[str, str] | None = None,
    ) -> Any:
        delay = self.backoff
        for attempt in range(self.retries + 1):
            await self.bucket.take()
            status: int | None = None
            try:
                # A redirected POST arrives without its body (police.uk then says 400): never
                # follow one, say so instead.
                async with self.session.request(
                    method, url, data=form, timeout=self.timeout, allow_redirects=form is None
                ) as response:
                    status = response.status
                    if status == 200:
                        try:
                            return await response.json(content_type=None)
                        except ValueError as exc:
                            raise SourceError("the response is not JSON", location=where) from exc
                    if 300 <= status < 400:
                        raise SourceError(
                            f"redirected to {response.headers.get('Location', '?')}; "
                            "a POST loses its body on a redirect: use the https:// base URL",
                            location=where,
                        )
                    if status == 404:
                        raise SourceMissing("not found (404)", location=where)
                    if status == 503 and poly:
                        # The documented answer to a custom area with more than 10,000 crimes;
                        # retrying would get the same, so the caller splits the area instead.
                        raise _TooMany(where)
                    retryable = status == 429 or status >= 500
                    if not retryable or attempt == self.retries:
                        raise SourceError(f"HTTP {status}", location=where)
                    retry_after = response.headers.get("Retry-After", "")
                    wait = float(retry_after) if retry_after.isdigit() else delay
            except (aiohttp.ClientError, TimeoutError) as exc:
                if attempt == self.retries:
                    raise SourceError(
                        f"unreachable ({type(exc).__name__})", location=where
                    ) from exc
                wait = delay
            log.info(
                "police.uk retry",
                extra={"url": where, "attempt": attempt + 1, "wait": wait, "status": status},
            )
            await asyncio.sleep(wait + random.uniform(0, wait / 2))  # noqa: S311 - jitter only
            delay = min(delay * 2, 30.0)
        raise SourceError("gave up", location=where)
