"""The police.uk client against a local police.uk: GET or POST, splitting busy areas, 429s."""

from __future__ import annotations

import asyncio
import json
import shutil

import aiohttp
import pytest
from aiohttp import web
from shapely.geometry import box

from beat.errors import SourceError, SourceMissing
from beat.policeuk.client import GET_LIMIT, MAX_OUTLINE_POINTS, PoliceUkClient
from beat.policeuk.folder import FolderSource
from tests.fakes.policeuk import CRIMES, DATA, start
from tests.policeuk_helpers import (
    FAST,
    SAMPLE_MONTH,
    boundary,
    fast_client,
    ids_inside,
    point,
    sample_crimes,
)

# Everything the two sample responses hold, and then some.
ALL_OF_IT = box(-0.03, 51.48, 0.04, 51.52)


@pytest.fixture
async def police_uk(aiohttp_server):
    return await start(aiohttp_server, **FAST)


@pytest.fixture
async def session():
    async with aiohttp.ClientSession() as s:
        yield s


async def test_a_small_area_goes_by_get_and_gets_exactly_its_crimes(police_uk, session):
    area = boundary("GRN3")
    found = await fast_client(session, police_uk.base_url).street_crimes(area, SAMPLE_MONTH)
    assert {r["id"] for r in found} == ids_inside(area)
    assert len(found) == len({r["id"] for r in found})
    (query,) = police_uk.queries
    assert (query.method, query.status) == ("GET", 200)
    assert query.length <= GET_LIMIT


async def test_an_area_too_long_for_a_get_is_posted(police_uk, session):
    area = boundary("grn-2")  # 263 points: over 4,094 characters as a query string
    found = await fast_client(session, police_uk.base_url).street_crimes(area, SAMPLE_MONTH)
    assert {r["id"] for r in found} == ids_inside(area)
    (query,) = police_uk.queries
    assert (query.method, query.status, query.points) == ("POST", 200, 262)


async def test_a_huge_boundary_is_simplified_without_losing_crimes(police_uk, session):
    area = boundary("GRN.1")  # 1,203 points
    found = await fast_client(session, police_uk.base_url).street_crimes(area, SAMPLE_MONTH)
    (query,) = police_uk.queries
    assert query.status == 200
    assert query.points < MAX_OUTLINE_POINTS
    got = {r["id"] for r in found}
    assert ids_inside(area) <= got
    # What the simpler outline adds lies within metres of the boundary, nowhere else.
    for record in found:
        if record["id"] not in ids_inside(area):
            assert area.distance(point(record)) < 0.0005


async def test_the_local_police_uk_refuses_long_gets(police_uk, session):
    poly = ":".join(f"51.5{i:04d},0.0{i:04d}" for i in range(300))
    async with session.get(
        f"{police_uk.base_url}/crimes-street/all-crime", params={"poly": poly, "date": "2014-08"}
    ) as response:
        assert response.status == 400


async def test_a_busy_area_is_split_until_each_piece_fits_and_nothing_comes_twice(
    aiohttp_server, session
):
    police_uk = await start(aiohttp_server, max_crimes=40, **FAST)
    found = await fast_client(session, police_uk.base_url).street_crimes(ALL_OF_IT, SAMPLE_MONTH)
    ids = [r["id"] for r in found]
    assert len(ids) == len(set(ids))
    assert set(ids) == set(sample_crimes())
    statuses = [q.status for q in police_uk.queries]
    assert statuses.count(503) >= 1
    assert all(q.crimes <= 40 for q in police_uk.queries)


async def test_an_area_that_stays_unavailable_fails_naming_the_url(police_uk, session):
    police_uk.window(60, status=503, on="crimes-street")
    client = fast_client(session, police_uk.base_url, max_split_depth=2)
    with pytest.raises(SourceError, match=r"crimes-street/all-crime\?date=2014-08.*503"):
        await client.street_crimes(ALL_OF_IT, SAMPLE_MONTH)
    # Split, not retried, depth first: the whole, its first half, that half's first quarter,
    # which may not be split again; then it stops.
    assert police_uk.state.requests["crimes-street"] == 3


async def test_server_errors_are_retried_then_reported(police_uk, session):
    police_uk.fail_next(2, status=500, on="crimes-street")
    found = await fast_client(session, police_uk.base_url).street_crimes(
        boundary("GRN3"), SAMPLE_MONTH
    )
    assert len(found) == len(ids_inside(boundary("GRN3")))
    police_uk.window(60, status=502, on="crimes-street")
    with pytest.raises(SourceError, match="HTTP 502"):
        await fast_client(session, police_uk.base_url, retries=2).street_crimes(
            boundary("GRN3"), SAMPLE_MONTH
        )


async def test_429s_are_waited_out_and_every_answer_arrives(aiohttp_server, session):
    # A police.uk stricter than the client's budget: the client must slow down, not give up.
    police_uk = await start(aiohttp_server, rate=20.0, burst=5)
    client = PoliceUkClient(session, police_uk.base_url, backoff=0.05)
    codes = [f"E0500{n}" for n in range(9288, 9313)]
    details = await asyncio.gather(*(client.get_json("city-of-london", c) for c in codes))
    assert [d["id"] for d in details] == codes
    assert police_uk.throttled > 0


async def test_a_404_is_missing_not_a_failure(police_uk, session):
    client = fast_client(session, police_uk.base_url)
    with pytest.raises(SourceMissing, match="not found"):
        await client.get_json("city-of-london", "E05009300", "priorities")


async def test_last_updated_and_months_come_from_the_api(police_uk, session):
    client = fast_client(session, police_uk.base_url)
    assert await client.get_json("crime-last-updated") == {"date": "2014-08-01"}
    dates = await client.get_json("crimes-street-dates")
    assert dates[0]["date"] == "2014-08"


async def test_a_redirected_post_is_refused_rather_than_sent_bodiless(aiohttp_server, session):
    async def moved(request: web.Request) -> web.Response:
        raise web.HTTPMovedPermanently("https://data.police.uk" + request.path)

    app = web.Application()
    app.router.add_route("*", "/api/{tail:.*}", moved)
    server = await aiohttp_server(app)
    client = fast_client(session, str(server.make_url("/api")), retries=0)
    with pytest.raises(SourceError, match="use the https:// base URL"):
        await client.street_crimes(boundary("grn-2"), SAMPLE_MONTH)


async def test_a_folder_answers_polygon_queries_like_the_api(tmp_path):
    month = tmp_path / "crimes-street" / "all-crime" / SAMPLE_MONTH
    month.mkdir(parents=True)
    for file in CRIMES[SAMPLE_MONTH]:
        shutil.copy(file, month)
    folder = FolderSource(tmp_path)
    area = boundary("grn-2")
    found = await folder.street_crimes(area, SAMPLE_MONTH)
    assert sorted(r["id"] for r in found) == sorted(ids_inside(area))
    with pytest.raises(SourceMissing, match="2014-09"):
        await folder.street_crimes(area, "2014-09")
    (tmp_path / "crime-last-updated.json").write_text(json.dumps({"date": "2014-08-01"}))
    assert await folder.get_json("crime-last-updated") == {"date": "2014-08-01"}


def test_the_fixtures_are_the_real_responses():
    # The replayed files must stay the published bytes (see tests/data/police-uk/SOURCES.md).
    import hashlib

    digests = {f.name: hashlib.sha256(f.read_bytes()).hexdigest()[:12] for f in CRIMES["2014-08"]}
    assert digests == {
        "crime_data_mozfest.json": "94278dcd1ff0",
        "all-crime_1.json": "ded3f5ae7a63",
    }
    assert (DATA / "api" / "forces.json").is_file()
