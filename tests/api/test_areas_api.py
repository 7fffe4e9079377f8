"""Forces and neighbourhoods over HTTP: lists, details with boundary, locate, search."""

from __future__ import annotations

import pytest
from shapely.geometry import Point, shape

from tests.helpers import ALDERSGATE, create_areas

ALDERSGATE_POINT = (51.5179, -0.0971)
TRAFALGAR_SQUARE = (51.5080, -0.1281)


@pytest.fixture
async def synced(db, demo_areas):
    await create_areas(demo_areas)


async def test_forces_are_listed(client, synced):
    body = await (await client.get("/v1/forces")).json()
    assert body["items"] == [
        {
            "id": "city-of-london",
            "name": "City of London Police",
            "links": {"self": "/v1/forces/city-of-london"},
        }
    ]
    force = await (await client.get("/v1/forces/city-of-london")).json()
    assert force["telephone"] == "101"


async def test_a_forces_neighbourhoods_are_listed_by_name(client, synced):
    response = await client.get("/v1/forces/city-of-london/neighbourhoods")
    assert response.status == 200
    names = [n["name"] for n in (await response.json())["items"]]
    assert len(names) == 25
    assert names == sorted(names)
    assert names[0] == "Aldersgate"


async def test_unknown_force_is_a_404_problem(client, synced):
    response = await client.get("/v1/forces/atlantis/neighbourhoods")
    assert response.status == 404
    assert (await response.json())["type"] == "/problems/not-found"


async def test_area_details_carry_the_boundary_as_geojson(client, synced):
    response = await client.get(f"/v1/areas/city-of-london/{ALDERSGATE}")
    assert response.status == 200
    area = await response.json()
    assert area["name"] == "Aldersgate"
    assert area["team"] == {"id": ALDERSGATE, "name": "Aldersgate"}
    boundary = shape(area["boundary"])
    assert boundary.contains(Point(ALDERSGATE_POINT[1], ALDERSGATE_POINT[0]))


async def test_unknown_area_is_a_404(client, synced):
    assert (await client.get("/v1/areas/city-of-london/E00000000")).status == 404
    assert (await client.get(f"/v1/areas/kent/{ALDERSGATE}")).status == 404


async def test_locate_finds_the_neighbourhood_containing_a_point(client, synced):
    lat, lng = ALDERSGATE_POINT
    response = await client.get("/v1/areas/locate", params={"lat": str(lat), "lng": str(lng)})
    assert response.status == 200
    body = await response.json()
    assert body["id"] == ALDERSGATE
    # The point asked about is never echoed back.
    assert str(lat) not in await response.text()
    assert response.headers["Cache-Control"] == "no-store"


async def test_locate_outside_every_area_is_a_404_problem(client, synced):
    lat, lng = TRAFALGAR_SQUARE
    response = await client.get("/v1/areas/locate", params={"lat": str(lat), "lng": str(lng)})
    assert response.status == 404
    assert response.content_type == "application/problem+json"


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"lat": "91", "lng": "0"}, "lat"),
        ({"lat": "0", "lng": "-181"}, "lng"),
        ({"lat": "north", "lng": "0"}, "lat"),
        ({"lat": "nan", "lng": "0"}, "lat"),
        ({"lat": "inf", "lng": "0"}, "lat"),
        ({"lng": "0"}, "lat"),
        ({"lat": "1", "lng": "1", "radius": "5"}, "radius"),
    ],
)
async def test_locate_rejects_bad_points_with_field_errors(client, synced, params, field):
    response = await client.get("/v1/areas/locate", params=params)
    assert response.status == 422
    assert field in {e["field"] for e in (await response.json())["errors"]}


async def test_search_finds_areas_by_name_prefix_first(client, synced):
    body = await (await client.get("/v1/areas/search", params={"q": "gate"})).json()
    names = [n["name"] for n in body["items"]]
    assert {"Aldgate", "Aldersgate", "Bishopsgate", "Dowgate", "Cripplegate"} <= set(names)
    body = await (await client.get("/v1/areas/search", params={"q": "far"})).json()
    assert [n["name"] for n in body["items"]] == ["Farringdon Within", "Farringdon Without"]


@pytest.mark.parametrize("q", ["", "a", "x" * 101])
async def test_search_needs_a_sensible_query(client, synced, q):
    response = await client.get("/v1/areas/search", params={"q": q})
    assert response.status == 422


async def test_search_treats_wildcards_as_text(client, synced):
    body = await (await client.get("/v1/areas/search", params={"q": "%_"})).json()
    assert body["items"] == []


@pytest.mark.parametrize("value", ["1_0", "0x1A", "1,5", " 51.5", "+-1"])
async def test_locate_takes_plain_decimals_only(client, synced, value):
    response = await client.get("/v1/areas/locate", params={"lat": value, "lng": "-0.09"})
    assert response.status == 422


async def test_locate_takes_what_phones_send(client, synced):
    for lat, lng in (("51.5179", "-0.0971"), ("+51.5179", "-.0971"), ("5.15179e1", "-0.0971")):
        response = await client.get("/v1/areas/locate", params={"lat": lat, "lng": lng})
        assert (await response.json())["id"] == "E05009288"
