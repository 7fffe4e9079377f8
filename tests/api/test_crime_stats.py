"""Crime statistics, snap-point GeoJSON, the force comparison and outcomes, over real HTTP."""

from __future__ import annotations

from collections import Counter
from datetime import timedelta
from typing import Any

import pytest

from beat.models import Force
from tests.feed_helpers import CrimeSpec, create_crime_month, create_outcome
from tests.helpers import ALDERSGATE, BISHOPSGATE, DEMO_FORCE, create_areas

STATS = f"/v1/areas/{DEMO_FORCE}/{ALDERSGATE}/crime-stats"
POINTS = f"/v1/areas/{DEMO_FORCE}/{ALDERSGATE}/crimes.geojson"
OGL = "Contains public sector information licensed under the Open Government Licence v3.0."
CRIME_A = "a" * 64
CRIME_B = "0123456789abcdef" * 4

# Aldersgate in September: three places, one of them twice as busy; one crime elsewhere.
SEPTEMBER = [
    CrimeSpec("burglary", ALDERSGATE, "On or near Long Lane", 51.5190, -0.0990, CRIME_A, "under-investigation"),
    CrimeSpec("burglary", ALDERSGATE, "On or near Long Lane", 51.5190, -0.0990),
    CrimeSpec("drugs", ALDERSGATE, "On or near Long Lane", 51.5190, -0.0990),
    CrimeSpec("drugs", ALDERSGATE, "On or near Golden Lane", 51.5200, -0.0950),
    CrimeSpec("drugs", ALDERSGATE, "On or near Golden Lane", 51.5200, -0.0950),
    CrimeSpec("anti-social-behaviour", ALDERSGATE, "On or near Beech Street", 51.5205, -0.0960),
    CrimeSpec("robbery", BISHOPSGATE, "On or near Bishopsgate", 51.5160, -0.0810),
    CrimeSpec("bicycle-theft", None, lat=None, lng=None),  # no location: in no area
]  # fmt: skip
AUGUST = [CrimeSpec("drugs", ALDERSGATE), CrimeSpec("robbery", BISHOPSGATE)]
LAST_SEPTEMBER = [CrimeSpec("shoplifting", ALDERSGATE)] * 4


@pytest.fixture
async def world(db, demo_areas, clock):
    await create_areas(demo_areas)
    start = clock.now - timedelta(days=400)
    await create_crime_month("2016-09", LAST_SEPTEMBER, arrived_at=start)
    await create_crime_month("2017-08", AUGUST, arrived_at=start + timedelta(days=330))
    source = await create_crime_month("2017-09", SEPTEMBER, arrived_at=start + timedelta(days=360))
    await create_outcome(CRIME_A, "2017-10", "no-further-action", source)
    await create_outcome(CRIME_A, "2017-09", "under-investigation", source)
    await create_outcome(CRIME_B, "2017-11", "charged", source)  # its street record never came
    return source


def aldersgate(crimes: list[CrimeSpec]) -> Counter[str]:
    return Counter(c.category for c in crimes if c.area == ALDERSGATE)


async def get(client, path: str, **kwargs: Any) -> tuple[int, Any, Any]:
    response = await client.get(path, **kwargs)
    body = await response.json() if response.status != 304 else None
    return response.status, body, response.headers


async def test_stats_default_to_the_newest_month_with_the_month_before_and_the_year_before(
    client, world, clock
):
    status, body, headers = await get(client, STATS)
    assert status == 200
    assert headers["Cache-Control"] == "public, max-age=60"
    assert body["month"] == "2017-09"
    expected = aldersgate(SEPTEMBER)
    assert body["total"] == sum(expected.values())
    assert {k: v for k, v in body["by_category"].items() if v} == dict(expected)
    assert body["by_category"]["vehicle-crime"] == 0  # known to be none, not unknown
    assert body["previous"]["month"] == "2017-08"
    assert body["previous"]["total"] == sum(aldersgate(AUGUST).values())
    assert body["year_before"]["month"] == "2016-09"
    assert body["year_before"]["by_category"]["shoplifting"] == 4
    assert body["top_locations"] == [
        {"location": "On or near Long Lane", "count": 3},
        {"location": "On or near Golden Lane", "count": 2},
        {"location": "On or near Beech Street", "count": 1},
    ]
    today = clock.now.date()
    lag = (today.year * 12 + today.month) - (2017 * 12 + 9)
    assert body["data_month"]["month"] == "2017-09"
    assert body["data_month"]["lag_months"] == lag
    assert body["data_month"]["arrived_at"].startswith(
        (clock.now - timedelta(days=40)).date().isoformat()
    )
    assert body["available_months"] == ["2017-09", "2017-08", "2016-09"]
    assert body["attribution"] == OGL
    assert "approximate" in body["approximate_locations"]


async def test_months_never_imported_are_null_not_zero(client, world):
    status, body, _ = await get(client, STATS, params={"month": "2017-08"})
    assert status == 200
    assert body["total"] == 1
    assert body["previous"] is None  # 2017-07 was never imported
    assert body["year_before"] is None
    status, body, _ = await get(client, STATS, params={"month": "2016-09"})
    assert (body["previous"], body["year_before"]) == (None, None)


async def test_an_area_with_no_crimes_in_an_imported_month_shows_zero(client, world):
    status, body, _ = await get(
        client, f"/v1/areas/{DEMO_FORCE}/E05009300/crime-stats", params={"month": "2017-09"}
    )
    assert status == 200
    assert body["total"] == 0 and set(body["by_category"].values()) == {0}
    assert body["top_locations"] == []
    assert body["previous"]["total"] == 0


async def test_an_unknown_month_is_404_naming_the_months_held(client, world):
    status, body, _ = await get(client, STATS, params={"month": "2017-10"})
    assert status == 404
    assert "2016-09, 2017-08, 2017-09" in body["detail"]


@pytest.mark.parametrize(
    "month", ["2017-13", "2017-9", "September", "2017-09-01", "\uff12\uff10\uff11\uff17-09", ""]
)
async def test_a_malformed_month_is_422(client, world, month):
    status, body, _ = await get(client, STATS, params={"month": month})
    assert status == 422
    assert body["errors"][0]["field"] == "month"


async def test_an_area_of_a_force_without_data_is_404(client, db, demo_areas):
    await create_areas(demo_areas)
    status, body, _ = await get(client, STATS)
    assert status == 404
    assert "no crime data" in body["detail"]


async def test_stats_etag_answers_304_until_a_new_month_arrives(client, world, clock):
    _, _, headers = await get(client, STATS)
    status, _, _ = await get(client, STATS, headers={"If-None-Match": headers["ETag"]})
    assert status == 304
    await create_crime_month("2017-12", [CrimeSpec("drugs", ALDERSGATE)], arrived_at=clock.now)
    status, body, _ = await get(client, STATS, headers={"If-None-Match": headers["ETag"]})
    assert status == 200
    assert body["month"] == "2017-12" and body["previous"] is None


async def test_geojson_gives_one_feature_per_snap_point_with_counts(client, world):
    response = await client.get(POINTS, params={"month": "2017-09"})
    assert response.status == 200
    assert response.content_type == "application/geo+json"
    body = await response.json()
    assert body["type"] == "FeatureCollection"
    assert body["attribution"] == OGL and "approximate" in body["approximate_locations"]
    expected: dict[tuple[float, float], Counter[str]] = {}
    for c in SEPTEMBER:
        if c.area == ALDERSGATE:
            assert c.lat is not None and c.lng is not None
            expected.setdefault((c.lng, c.lat), Counter())[c.category] += 1
    found = {tuple(f["geometry"]["coordinates"]): f["properties"] for f in body["features"]}
    assert set(found) == set(expected)
    for point, props in found.items():
        assert props["by_category"] == dict(expected[point])
        assert props["total"] == sum(expected[point].values())
        assert props["approximate"] is True
    assert [f["properties"]["total"] for f in body["features"]] == [3, 2, 1]


async def test_geojson_of_a_month_not_held_is_404(client, world):
    response = await client.get(POINTS, params={"month": "2015-01"})
    assert response.status == 404


async def test_compare_counts_each_force_with_its_trend(client, world, clock):
    await Force.create(id="essex", name="Essex Police")
    essex = [CrimeSpec("drugs", None)] * 5 + [CrimeSpec("robbery", None)] * 2
    await create_crime_month("2017-09", essex, arrived_at=clock.now, force_id="essex")

    status, body, headers = await get(client, "/v1/forces/compare")
    assert status == 200 and headers["Cache-Control"] == "public, max-age=60"
    assert (body["month"], body["category"]) == ("2017-09", "all-crime")
    assert body["months"] == ["2016-09", "2017-08", "2017-09"]
    rows = {r["force"]["id"]: r for r in body["forces"]}
    assert rows["essex"]["count"] == len(essex)
    assert rows[DEMO_FORCE]["count"] == len(SEPTEMBER)
    assert [r["force"]["id"] for r in body["forces"]] == ["city-of-london", "essex"]
    assert rows["essex"]["trend"] == [
        {"month": "2016-09", "count": None},  # Essex has no data then: unknown, not zero
        {"month": "2017-08", "count": None},
        {"month": "2017-09", "count": len(essex)},
    ]
    assert [t["count"] for t in rows[DEMO_FORCE]["trend"]] == [
        len(LAST_SEPTEMBER), len(AUGUST), len(SEPTEMBER),
    ]  # fmt: skip

    _, drugs, _ = await get(
        client, "/v1/forces/compare", params={"category": "drugs", "month": "2017-08"}
    )
    rows = {r["force"]["id"]: r for r in drugs["forces"]}
    assert rows[DEMO_FORCE]["count"] == sum(1 for c in AUGUST if c.category == "drugs")
    assert rows["essex"]["count"] is None
    assert [r["force"]["id"] for r in drugs["forces"]] == ["city-of-london", "essex"]


@pytest.mark.parametrize(
    ("params", "status"),
    [({"category": "arson"}, 422), ({"month": "17-09"}, 422), ({"month": "2001-01"}, 404)],
)
async def test_compare_refuses_unknown_categories_and_months(client, world, params, status):
    response = await client.get("/v1/forces/compare", params=params)
    assert response.status == status


async def test_outcomes_give_the_crime_and_its_history_oldest_first(client, world):
    status, body, headers = await get(client, f"/v1/crimes/{CRIME_A}/outcomes")
    assert status == 200 and headers["Cache-Control"] == "public, max-age=60"
    assert (body["category"], body["month"], body["force"]) == ("burglary", "2017-09", DEMO_FORCE)
    assert body["location"]["description"] == "On or near Long Lane"
    assert body["location"]["approximate"] is True
    assert body["area"]["id"] == ALDERSGATE
    assert [(o["month"], o["outcome"]) for o in body["outcomes"]] == [
        ("2017-09", "under-investigation"),
        ("2017-10", "no-further-action"),
    ]
    assert body["outcomes"][1]["name"] == "Investigation complete; no suspect identified"
    assert body["last_outcome"]["outcome"] == "under-investigation"
    assert body["attribution"] == OGL


async def test_outcomes_of_a_crime_known_only_from_outcome_files(client, world):
    status, body, _ = await get(client, f"/v1/crimes/{CRIME_B.upper()}/outcomes")
    assert status == 200
    assert body["crime_id"] == CRIME_B
    assert (body["category"], body["location"], body["last_outcome"]) == (None, None, None)
    assert [o["outcome"] for o in body["outcomes"]] == ["charged"]


@pytest.mark.parametrize(
    ("crime_id", "status"), [("b" * 64, 404), ("b" * 63, 400), ("z" * 64, 400), ("a" * 65, 400)]
)
async def test_outcomes_of_unknown_or_malformed_ids(client, world, crime_id, status):
    response = await client.get(f"/v1/crimes/{crime_id}/outcomes")
    assert response.status == status
    assert response.content_type == "application/problem+json"
