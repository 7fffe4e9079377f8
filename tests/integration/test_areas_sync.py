"""Syncing a force from a folder laid out like police.uk, and from a local police.uk server."""

from __future__ import annotations

import json
import shutil
from datetime import UTC, datetime
from pathlib import Path

import aiohttp
import pytest
from shapely.geometry import Point, shape

from beat import areas
from beat.errors import NotFound, SourceError
from beat.models import Force, Neighbourhood, Team
from beat.policeuk.client import PoliceUkClient, TokenBucket
from beat.policeuk.folder import FolderSource
from tests.fakes.policeuk import start
from tests.helpers import ALDERSGATE, DEMO_FORCE

WARDS = Path(__file__).resolve().parents[1] / "data" / "boundaries" / "WD19CD"


def now() -> datetime:
    return datetime.now(UTC)


@pytest.fixture
def folder(tmp_path, demo_areas) -> Path:
    target = tmp_path / "policeuk"
    shutil.copytree(demo_areas, target)
    return target


async def test_sync_loads_the_force_its_neighbourhoods_and_a_team_for_each(db, folder):
    result = await areas.sync_force(FolderSource(folder), DEMO_FORCE, now=now())
    assert (result.total, result.created, result.updated, result.retired) == (25, 25, 0, 0)
    force = await Force.get(id=DEMO_FORCE)
    assert force.name == "City of London Police"
    assert await Neighbourhood.filter(force_id=DEMO_FORCE).count() == 25
    aldersgate = await Neighbourhood.get(force_id=DEMO_FORCE, code=ALDERSGATE).prefetch_related(
        "team"
    )
    assert aldersgate.name == "Aldersgate"
    assert aldersgate.team.code == ALDERSGATE
    assert aldersgate.boundary["type"] == "Polygon"
    assert aldersgate.contact_details == {"telephone": "101"}
    assert await Team.filter(force_id=DEMO_FORCE).count() == 25


async def test_resync_updates_in_place_and_keeps_team_assignments(db, folder):
    source = FolderSource(folder)
    await areas.sync_force(source, DEMO_FORCE, now=now())
    # A team takes over a second neighbourhood; a resync must not undo that.
    aldersgate_team = await Team.get(force_id=DEMO_FORCE, code=ALDERSGATE)
    await Neighbourhood.filter(force_id=DEMO_FORCE, code="E05009290").update(
        team_id=aldersgate_team.id
    )
    details = folder / DEMO_FORCE / f"{ALDERSGATE}.json"
    doc = json.loads(details.read_text())
    doc["name"] = "Aldersgate &amp; Barbican"
    details.write_text(json.dumps(doc))

    result = await areas.sync_force(source, DEMO_FORCE, now=now())

    assert (result.created, result.updated) == (0, 25)
    assert await Neighbourhood.filter(force_id=DEMO_FORCE).count() == 25
    assert await Team.filter(force_id=DEMO_FORCE).count() == 25
    renamed = await Neighbourhood.get(force_id=DEMO_FORCE, code=ALDERSGATE)
    assert renamed.name == "Aldersgate & Barbican"
    moved = await Neighbourhood.get(force_id=DEMO_FORCE, code="E05009290")
    assert moved.team_id == aldersgate_team.id


async def test_a_neighbourhood_dropped_by_police_uk_is_retired_not_deleted(db, folder):
    source = FolderSource(folder)
    await areas.sync_force(source, DEMO_FORCE, now=now())
    listing_path = folder / DEMO_FORCE / "neighbourhoods.json"
    listing = [n for n in json.loads(listing_path.read_text()) if n["id"] != ALDERSGATE]
    listing_path.write_text(json.dumps(listing))

    result = await areas.sync_force(source, DEMO_FORCE, now=now())

    assert result.retired == 1
    assert await Neighbourhood.filter(code=ALDERSGATE).count() == 1
    with pytest.raises(NotFound):
        await areas.get_neighbourhood(DEMO_FORCE, ALDERSGATE)
    assert ALDERSGATE not in {n.code for n in await areas.list_neighbourhoods(DEMO_FORCE)}


async def test_a_broken_file_names_itself_and_nothing_is_written(db, folder):
    (folder / DEMO_FORCE / "E05009300" / "boundary.json").write_text('[{"latitude": "51.5", ')
    with pytest.raises(SourceError) as caught:
        await areas.sync_force(FolderSource(folder), DEMO_FORCE, now=now())
    assert "E05009300/boundary.json" in str(caught.value)
    assert "not valid JSON" in str(caught.value)
    assert await Force.all().count() == 0
    assert await Neighbourhood.all().count() == 0


async def test_a_missing_file_is_reported_with_its_path(db, folder):
    (folder / DEMO_FORCE / "E05009300.json").unlink()
    with pytest.raises(SourceError, match=r"E05009300\.json: file not found"):
        await areas.sync_force(FolderSource(folder), DEMO_FORCE, now=now())


async def test_ids_cannot_climb_out_of_the_folder(folder):
    with pytest.raises(SourceError):
        FolderSource(folder).path("..", "etc")


async def test_locate_agrees_with_an_independent_point_in_polygon_check(db, folder):
    await areas.sync_force(FolderSource(folder), DEMO_FORCE, now=now())
    locator = areas.AreaLocator()
    wards = {p.stem: shape(json.loads(p.read_text())["geometry"]) for p in WARDS.glob("*.geojsonl")}
    for code, ward in wards.items():
        inside = ward.representative_point()
        found = await locator.locate(inside.y, inside.x)
        assert found.code == code, f"{code}: located in {found.code}"
    city = shape(
        json.loads((WARDS.parent / "LAD19CD" / "E09000001.geojsonl").read_text())["geometry"]
    )
    outside = Point(-0.1276, 51.5072)  # Trafalgar Square, Westminster
    assert not city.contains(outside)
    with pytest.raises(NotFound):
        await locator.locate(outside.y, outside.x)


async def test_locator_sees_boundaries_synced_after_it_was_built(db, folder):
    locator = areas.AreaLocator()
    with pytest.raises(NotFound):
        await locator.locate(51.5186, -0.0962)
    await areas.sync_force(FolderSource(folder), DEMO_FORCE, now=now())
    assert (await locator.locate(51.5186, -0.0962)).code == ALDERSGATE


async def test_sync_over_http_retries_rate_limits_and_outages(db, folder, aiohttp_server):
    police_uk = await start(aiohttp_server, roots=(folder,), rate=1000.0, burst=1000)
    police_uk.fail_next(2, status=503, on="neighbourhoods")
    police_uk.fail_next(1, status=429, on="boundary")
    async with aiohttp.ClientSession() as session:
        client = PoliceUkClient(session, police_uk.base_url, bucket=TokenBucket(1000, 1000))
        result = await areas.sync_force(client, DEMO_FORCE, now=now())
    assert result.total == 25
    assert police_uk.state.requests["neighbourhoods"] == 3
    assert police_uk.state.requests["boundary"] == 25 + 1


async def test_an_unknown_force_over_http_is_a_source_error_naming_the_url(
    db, folder, aiohttp_server
):
    police_uk = await start(aiohttp_server, roots=(folder,))
    async with aiohttp.ClientSession() as session:
        client = PoliceUkClient(session, police_uk.base_url, retries=0)
        with pytest.raises(SourceError, match=r"/api/kent: not found"):
            await areas.sync_force(client, "kent", now=now())


async def test_over_long_ids_name_nothing(db, folder):
    await areas.sync_force(FolderSource(folder), DEMO_FORCE, now=now())
    with pytest.raises(NotFound):
        await areas.get_neighbourhood(DEMO_FORCE, "E" * 500)
    with pytest.raises(NotFound):
        await areas.get_force("f" * 500)
