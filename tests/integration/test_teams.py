"""Teams cover neighbourhoods; officers post for their team's areas, so this decides who may post where."""

from __future__ import annotations

import pytest

from beat import areas, teams
from beat.errors import Conflict, Invalid, NotAllowed, NotFound
from beat.models import Role
from tests.helpers import ALDERSGATE, BISHOPSGATE, create_areas, create_force, create_user


@pytest.fixture
async def synced(db, demo_areas):
    await create_areas(demo_areas)


async def test_sync_makes_one_team_per_neighbourhood(synced):
    views = await teams.list_teams(None, "city-of-london")
    assert len(views) == 25
    assert all([n.code for n in v.neighbourhoods] == [v.team.code] for v in views)


async def test_a_district_team_takes_over_several_wards_and_its_officers_see_them(synced):
    admin = await create_user("admin@city.police.uk", Role.FORCE_ADMIN)
    await teams.create_team(admin, "city-of-london", code="north", name="City North")
    view = await teams.assign_neighbourhoods(
        admin, "city-of-london", "north", [ALDERSGATE, BISHOPSGATE]
    )
    assert sorted(n.code for n in view.neighbourhoods) == [ALDERSGATE, BISHOPSGATE]
    officer = await create_user("pc@city.police.uk", Role.OFFICER, team="north")
    assert {n.code for n in await areas.postable_areas(officer)} == {ALDERSGATE, BISHOPSGATE}
    old = await teams.get_team(admin, "city-of-london", ALDERSGATE)
    assert old.neighbourhoods == []


async def test_only_the_forces_admin_changes_teams(synced):
    await create_force("kent", teams=("K01",))
    kent_admin = await create_user("admin@kent.police.uk", Role.FORCE_ADMIN, force="kent")
    comms = await create_user("comms@city.police.uk", Role.COMMS)
    for who in (kent_admin, comms):
        with pytest.raises(NotAllowed):
            await teams.assign_neighbourhoods(who, "city-of-london", ALDERSGATE, [BISHOPSGATE])
        with pytest.raises(NotAllowed):
            await teams.create_team(who, "city-of-london", code="x", name="X")
    with pytest.raises(NotAllowed):
        await teams.list_teams(kent_admin, "city-of-london")
    assert len(await teams.list_teams(comms, "city-of-london")) == 25


async def test_bad_team_changes_are_refused_whole(synced):
    with pytest.raises(Invalid) as caught:
        await teams.assign_neighbourhoods(
            None, "city-of-london", ALDERSGATE, [BISHOPSGATE, "E0000", "K01"]
        )
    assert len(caught.value.errors) == 2
    assert (await teams.get_team(None, "city-of-london", BISHOPSGATE)).neighbourhoods[
        0
    ].code == BISHOPSGATE
    with pytest.raises(NotFound):
        await teams.assign_neighbourhoods(None, "city-of-london", "nope", [BISHOPSGATE])
    with pytest.raises(Conflict):
        await teams.create_team(None, "city-of-london", code=ALDERSGATE, name="Again")
    with pytest.raises(Invalid):
        await teams.create_team(None, "city-of-london", code="../x", name="Bad")
