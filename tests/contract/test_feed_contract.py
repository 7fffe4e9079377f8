"""The feed, crime statistics, GeoJSON, comparison and outcomes routes, through the contract.

Every call goes through the validating client: requests and responses are checked against
mobile_contract/openapi.yaml, so these tests pin the service's behaviour and the contract.
"""

from __future__ import annotations

import dataclasses
import json
from datetime import timedelta

import pytest
from aiohttp.test_utils import TestClient
from openapi_core import OpenAPI
from openapi_core.deserializing.media_types.util import json_loads

from beat import teams
from beat.models import Role, User
from tests.contract import validating
from tests.contract.validating import ContractClient
from tests.feed_helpers import (
    CLEAN_TEXTS,
    CrimeSpec,
    create_crime_month,
    create_event,
    create_outcome,
    create_priority,
    follow,
    publish_post,
)
from tests.helpers import ALDERSGATE, BISHOPSGATE, DEMO_FORCE, bearer, create_areas, create_user

AREA = f"/v1/areas/{DEMO_FORCE}/{ALDERSGATE}"
CRIME_ID = "1f5905ec6f56b30b2c66fe15db987a840e8d9c106edfada7e5f46fe46437f6e9"
GEOJSON = "application/geo+json"


@pytest.fixture(scope="session")
def geo_contract() -> OpenAPI:
    """The contract read as the shared fixture reads it, plus GeoJSON bodies read as JSON."""
    base = validating._config()
    config = dataclasses.replace(
        base,
        extra_media_type_deserializers={
            **base.extra_media_type_deserializers,
            GEOJSON: json_loads,
        },
    )
    return OpenAPI.from_file_path(str(validating.SPEC_PATH), config=config)


@pytest.fixture
def api(client: TestClient, geo_contract: OpenAPI) -> ContractClient:
    return ContractClient(client, geo_contract)


@pytest.fixture
async def world(db, demo_areas, clock) -> dict[str, User]:
    await create_areas(demo_areas)
    await teams.assign_neighbourhoods(None, DEMO_FORCE, ALDERSGATE, [ALDERSGATE, BISHOPSGATE])
    officer = await create_user("pc.khan@city.police.uk", Role.OFFICER)
    resident = await create_user("resident@example.org", Role.RESIDENT)
    start = clock.now - timedelta(days=60)
    await create_crime_month(
        "2017-08", [CrimeSpec("drugs", ALDERSGATE)], arrived_at=start - timedelta(days=30)
    )
    source = await create_crime_month(
        "2017-09",
        [
            CrimeSpec("burglary", ALDERSGATE, "On or near Long Lane", persistent_id=CRIME_ID,
                      outcome="under-investigation"),
            CrimeSpec("anti-social-behaviour", ALDERSGATE, "On or near Golden Lane", 51.52, -0.095),
            CrimeSpec("robbery", BISHOPSGATE),
        ],
        arrived_at=start,
    )  # fmt: skip
    await create_outcome(CRIME_ID, "2017-10", "local-resolution", source)
    await create_priority(
        ALDERSGATE, "Cycle theft", issue_date=start + timedelta(days=1), synced_at=clock.now
    )
    await create_event(
        ALDERSGATE, "Beat surgery", starts_at=clock.now + timedelta(days=3), synced_at=clock.now
    )
    await publish_post(officer, CLEAN_TEXTS[0], [ALDERSGATE, BISHOPSGATE], now=clock.now)
    await publish_post(officer, CLEAN_TEXTS[1], [ALDERSGATE], now=clock.now + timedelta(seconds=1))
    return {"officer": officer, "resident": resident}


async def test_area_feed_pages_and_revalidates_within_the_contract(api, world):
    first = await api.get(f"{AREA}/feed", params={"limit": "3"})
    assert first.status == 200
    assert [i["type"] for i in first.json["items"]] == ["event", "post", "post"]
    second = await api.get(
        f"{AREA}/feed", params={"limit": "3", "cursor": first.json["next_cursor"]}
    )
    assert [i["type"] for i in second.json["items"]] == ["priority", "crime_stats", "crime_stats"]
    assert second.json["next_cursor"] is None
    again = await api.get(
        f"{AREA}/feed", params={"limit": "3"}, headers={"If-None-Match": first.headers["ETag"]}
    )
    assert again.status == 304 and again.body == b""


async def test_area_feed_errors_are_documented_problems(api, world):
    unknown = await api.get(f"/v1/areas/{DEMO_FORCE}/E00000000/feed")
    assert (unknown.status, unknown.problem_type) == (404, "/problems/not-found")
    bad = await api.get(f"{AREA}/feed", params={"limit": "0"}, off_contract=True)
    assert (bad.status, bad.problem_type) == (422, "/problems/validation")
    cursor = await api.get(f"{AREA}/feed", params={"cursor": "nope"})
    assert (cursor.status, cursor.problem_type) == (422, "/problems/validation")


async def test_my_feed_within_the_contract(api, world, clock):
    token = await bearer(api.client, "resident@example.org")
    raw = token["Authorization"].removeprefix("Bearer ")
    empty = await api.get("/v1/me/feed", token=raw)
    assert (empty.status, empty.json["items"]) == (200, [])
    await follow(world["resident"], [ALDERSGATE, BISHOPSGATE], now=clock.now)
    mine = await api.get("/v1/me/feed", token=raw)
    assert mine.status == 200
    posts = [i for i in mine.json["items"] if i["type"] == "post"]
    assert len(posts) == 2
    assert sorted(len(p["areas"]) for p in posts) == [1, 2]
    same = await api.get("/v1/me/feed", token=raw, headers={"If-None-Match": mine.headers["ETag"]})
    assert same.status == 304
    nobody = await api.get("/v1/me/feed", off_contract=True)
    assert (nobody.status, nobody.problem_type) == (401, "/problems/unauthenticated")


async def test_crime_stats_within_the_contract(api, world):
    stats = await api.get(f"{AREA}/crime-stats")
    assert stats.status == 200
    assert (stats.json["month"], stats.json["total"]) == ("2017-09", 2)
    assert stats.json["previous"]["total"] == 1 and stats.json["year_before"] is None
    cached = await api.get(f"{AREA}/crime-stats", headers={"If-None-Match": stats.headers["ETag"]})
    assert cached.status == 304
    missing = await api.get(f"{AREA}/crime-stats", params={"month": "2016-01"})
    assert (missing.status, missing.problem_type) == (404, "/problems/not-found")
    bad = await api.get(f"{AREA}/crime-stats", params={"month": "2016-1"}, off_contract=True)
    assert (bad.status, bad.problem_type) == (422, "/problems/validation")


async def test_crime_points_are_geojson_within_the_contract(api, world):
    reply = await api.get(f"{AREA}/crimes.geojson", params={"month": "2017-09"})
    assert reply.status == 200 and reply.content_type == GEOJSON
    body = json.loads(reply.body)
    assert sum(f["properties"]["total"] for f in body["features"]) == 2
    missing = await api.get(f"{AREA}/crimes.geojson", params={"month": "2016-01"})
    assert missing.status == 404


async def test_force_comparison_within_the_contract(api, world):
    reply = await api.get("/v1/forces/compare", params={"category": "robbery"})
    assert reply.status == 200
    (row,) = reply.json["forces"]
    assert row["count"] == 1 and [t["count"] for t in row["trend"]] == [0, 1]
    bad = await api.get("/v1/forces/compare", params={"category": "arson"}, off_contract=True)
    assert (bad.status, bad.problem_type) == (422, "/problems/validation")


async def test_crime_outcomes_within_the_contract(api, world):
    reply = await api.get(f"/v1/crimes/{CRIME_ID}/outcomes")
    assert reply.status == 200
    assert reply.json["last_outcome"]["outcome"] == "under-investigation"
    assert [o["outcome"] for o in reply.json["outcomes"]] == ["local-resolution"]
    unknown = await api.get(f"/v1/crimes/{'0' * 64}/outcomes")
    assert (unknown.status, unknown.problem_type) == (404, "/problems/not-found")
    bad = await api.get("/v1/crimes/xyz/outcomes", off_contract=True)
    assert (bad.status, bad.problem_type) == (400, "/problems/bad-request")
