"""A local data.police.uk: replays real responses, answers polygon queries, limits like the API."""

from __future__ import annotations

import json
import math
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import shapely
from aiohttp import web
from shapely.geometry import Polygon

from tests.fakes import Budget, FakeService

REPO = Path(__file__).resolve().parents[2]
DATA = REPO / "tests" / "data" / "police-uk"
# Documents by API path, first root that has the file wins: the tests' own (priorities, events,
# the Metropolitan areas), then the demo's City of London force and neighbourhoods.
ROOTS = (DATA / "api", REPO / "beat" / "demo_data" / "policeuk")
# Real crimes-street/all-crime responses (see tests/data/police-uk/SOURCES.md).
CRIMES = {"2014-08": (DATA / "crime_data_mozfest.json", DATA / "all-crime_1.json")}
GET_LIMIT = 4094  # "a 400 status code in response to a GET request longer than 4094 characters"
MAX_CRIMES = (
    10_000  # "If a custom area contains more than 10,000 crimes, the API will return a 503"
)
ONE_MILE_KM = 1.609
STOP_AND_SEARCH = ["bedfordshire", "btp", "city-of-london", "metropolitan"]


@dataclass
class CrimeQuery:
    """One street-level crime request as the fake saw it."""

    method: str
    length: int  # of the URL, for GETs; of the body, for POSTs
    points: int  # in `poly`, 0 for a lat/lng query
    month: str
    status: int
    crimes: int


class LeakyBucket:
    """police.uk's limit: 15 requests a second on average, bursts up to 30, then 429."""

    def __init__(self, rate: float, burst: int) -> None:
        self.rate = rate
        self.burst = burst
        self.level = 0.0
        self.updated = time.monotonic()

    def admit(self) -> bool:
        now = time.monotonic()
        self.level = max(0.0, self.level - (now - self.updated) * self.rate)
        self.updated = now
        if self.level + 1 > self.burst:
            return False
        self.level += 1
        return True


class FakePoliceUk(FakeService):
    """data.police.uk under `/api`, from saved responses.

    Force, neighbourhood, boundary, priorities and events documents are the files under `roots`
    (laid out like the API, `.json` appended), sent byte for byte; 404 when there is none. The
    months of crimes are real `crimes-street` responses, merged by `id`; a `poly` query (GET, or
    POST form-encoded) answers the month's crimes inside the polygon, edges included, and a
    lat/lng query those within a mile. GETs over 4,094 characters get 400, a POST without `poly`
    400, an area holding more than `max_crimes` crimes 503, a client over 15 requests/s (bursts
    of 30) 429. `crime-last-updated` names the newest month held (or `last_updated`);
    `crimes-street-dates` lists the months held, newest first. Faults as every fake has them.
    """

    name = "policeuk"
    default_limit = (10**9, 1.0)  # the fixed windows of the other fakes: off; a leaky bucket here
    control_ops = FakeService.control_ops | {"set_max_crimes", "set_last_updated"}

    def __init__(
        self,
        *,
        roots: tuple[Path, ...] = ROOTS,
        crimes: dict[str, tuple[Path, ...]] | None = None,
        max_crimes: int = MAX_CRIMES,
        rate: float = 15.0,
        burst: int = 30,
        last_updated: str | None = None,
        **kwargs: Any,
    ) -> None:
        self.roots = roots
        self.months: dict[str, list[dict[str, Any]]] = {}
        for month, files in (CRIMES if crimes is None else crimes).items():
            merged: dict[int, dict[str, Any]] = {}
            for file in files:
                for record in json.loads(file.read_text()):
                    merged.setdefault(record["id"], record)
            self.months[month] = list(merged.values())
        self.max_crimes = max_crimes
        self.bucket = LeakyBucket(rate, burst)
        self.last_updated = last_updated
        self.queries: list[CrimeQuery] = []
        self.throttled = 0
        self.base_url = ""  # set by `start`
        super().__init__(**kwargs)

    # ---- steering, for tests -----------------------------------------------------------------

    def set_max_crimes(self, n: int) -> None:
        """Answer 503 to a custom area with more than `n` crimes (police.uk: 10,000)."""
        self.max_crimes = n

    def set_last_updated(self, month: str) -> None:
        """What crime-last-updated says, e.g. a month just published."""
        self.last_updated = month

    # ---- FakeService -------------------------------------------------------------------------

    def routes(self, router: web.UrlDispatcher) -> None:
        router.add_get("/api/forces", self.document, name="forces")
        router.add_get(
            "/api/crime-last-updated", self.crime_last_updated, name="crime-last-updated"
        )
        router.add_get(
            "/api/crimes-street-dates", self.crimes_street_dates, name="crimes-street-dates"
        )
        router.add_get("/api/crimes-street/{category}", self.crimes_street, name="crimes-street")
        router.add_post(
            "/api/crimes-street/{category}", self.crimes_street, name="crimes-street.post"
        )
        router.add_get("/api/{force}", self.document, name="force")
        router.add_get("/api/{force}/neighbourhoods", self.document, name="neighbourhoods")
        router.add_get("/api/{force}/{id}", self.document, name="neighbourhood")
        router.add_get("/api/{force}/{id}/boundary", self.document, name="boundary")
        router.add_get("/api/{force}/{id}/priorities", self.document, name="priorities")
        router.add_get("/api/{force}/{id}/events", self.document, name="events")

    def error(self, status: int, detail: str) -> web.Response:
        return web.Response(status=status, text=detail, content_type="text/plain")

    def rate_headers(self, limit: int, remaining: int, reset_at: float) -> dict[str, str]:
        return {}  # police.uk sends no rate-limit headers

    def _before(
        self, request: web.Request, endpoint: str, budget: Budget, now: float
    ) -> web.Response | None:
        answer = super()._before(request, endpoint, budget, now)
        if answer is None and not self.bucket.admit():
            self.throttled += 1
            return self.error(429, "Too Many Requests")
        return answer

    # ---- handlers ----------------------------------------------------------------------------

    async def document(self, request: web.Request) -> web.Response:
        path = request.path.removeprefix("/api/")
        parts = path.split("/")
        for root in self.roots:
            file = root.joinpath(*parts[:-1], f"{parts[-1]}.json")
            if file.is_file():
                return web.Response(body=file.read_bytes(), content_type="application/json")
        return self.error(404, "Not Found")

    def _newest(self) -> str:
        return self.last_updated or max(self.months)

    async def crime_last_updated(self, request: web.Request) -> web.Response:
        return web.json_response({"date": f"{self._newest()}-01"})

    async def crimes_street_dates(self, request: web.Request) -> web.Response:
        months = sorted({*self.months, self._newest()}, reverse=True)
        return web.json_response([{"date": m, "stop-and-search": STOP_AND_SEARCH} for m in months])

    async def crimes_street(self, request: web.Request) -> web.Response:
        if request.method == "POST":
            form = await request.post()
            params = {k: str(v) for k, v in form.items()}
            length = request.content_length or 0
            if "poly" not in params:  # what a redirected POST looks like: no body
                return self._answer("POST", length, 0, "", 400, "poly is required")
        else:
            params = dict(request.query)
            length = len(f"{request.scheme}://{request.host}{request.raw_path}")
            if length > GET_LIMIT:
                return self._answer("GET", length, 0, "", 400, "Request-URI Too Long")
        month = params.get("date") or self._newest()
        points = 0
        if "poly" in params:
            try:
                pairs = [p.split(",") for p in params["poly"].split(":")]
                ring = [(float(lng), float(lat)) for lat, lng in pairs]
            except ValueError:
                return self._answer(request.method, length, 0, month, 400, "bad poly")
            points = len(ring)
            if points < 3:
                return self._answer(request.method, length, points, month, 400, "bad poly")
            found = self._in_polygon(Polygon(ring), month)
        elif "lat" in params and "lng" in params:
            found = self._near(float(params["lat"]), float(params["lng"]), month)
        else:
            return self._answer(request.method, length, 0, month, 400, "poly or lat/lng")
        if found is None:  # outside the months served: police.uk has answered 500
            return self._answer(request.method, length, points, month, 500, "Server Error")
        if len(found) > self.max_crimes and points:
            return self._answer(request.method, length, points, month, 503, "Service Unavailable")
        self.queries.append(CrimeQuery(request.method, length, points, month, 200, len(found)))
        if request.match_info["category"] != "all-crime":
            found = [r for r in found if r["category"] == request.match_info["category"]]
        return web.json_response(found)

    def _answer(
        self, method: str, length: int, points: int, month: str, status: int, detail: str
    ) -> web.Response:
        self.queries.append(CrimeQuery(method, length, points, month, status, 0))
        return self.error(status, detail)

    def _records(self, month: str) -> list[dict[str, Any]] | None:
        if month in self.months:
            return self.months[month]
        return [] if month == self._newest() else None

    def _in_polygon(self, polygon: Polygon, month: str) -> list[dict[str, Any]] | None:
        records = self._records(month)
        if not records:
            return records
        xs = [float(r["location"]["longitude"]) for r in records]
        ys = [float(r["location"]["latitude"]) for r in records]
        inside = shapely.intersects_xy(shapely.make_valid(polygon), xs, ys)
        return [r for r, hit in zip(records, inside, strict=True) if hit]

    def _near(self, lat: float, lng: float, month: str) -> list[dict[str, Any]] | None:
        records = self._records(month)
        if not records:
            return records
        return [r for r in records if _km(lat, lng, r["location"]) <= ONE_MILE_KM]


async def start(aiohttp_server: Any, **options: Any) -> FakePoliceUk:
    """Serve a fake on loopback (with pytest-aiohttp's `aiohttp_server`); its API at `base_url`."""
    fake = FakePoliceUk(**options)
    server = await aiohttp_server(fake.app)
    fake.base_url = str(server.make_url("/api"))
    return fake


def _km(lat: float, lng: float, location: dict[str, str]) -> float:
    la, ln = math.radians(float(location["latitude"])), math.radians(float(location["longitude"]))
    a = (
        math.sin((la - math.radians(lat)) / 2) ** 2
        + math.cos(la) * math.cos(math.radians(lat)) * math.sin((ln - math.radians(lng)) / 2) ** 2
    )
    return 6371.0 * 2 * math.asin(math.sqrt(a))
