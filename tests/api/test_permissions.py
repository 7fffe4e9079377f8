"""Who may do what: roles, and no one acting on another force's data."""

from __future__ import annotations

import pytest

from beat.models import Role, User
from tests.helpers import ALDERSGATE, BISHOPSGATE, bearer, create_areas, create_force, create_user

OTHER_FORCE = "kent"


@pytest.fixture
async def world(db, demo_areas):
    await create_areas(demo_areas)
    await create_force(OTHER_FORCE, "Kent Police", teams=("K01",))
    people = {
        "officer": await create_user("officer@city.police.uk", Role.OFFICER),
        "comms": await create_user("comms@city.police.uk", Role.COMMS),
        "admin": await create_user("admin@city.police.uk", Role.FORCE_ADMIN),
        "resident": await create_user("someone@example.org", Role.RESIDENT),
        "kent-admin": await create_user(
            "admin@kent.police.uk", Role.FORCE_ADMIN, force=OTHER_FORCE
        ),
        "kent-officer": await create_user(
            "officer@kent.police.uk", Role.OFFICER, force=OTHER_FORCE, team="K01"
        ),
    }
    return people


async def as_(client, who: str) -> dict[str, str]:
    emails = {
        "officer": "officer@city.police.uk", "comms": "comms@city.police.uk",
        "admin": "admin@city.police.uk", "resident": "someone@example.org",
        "kent-admin": "admin@kent.police.uk", "kent-officer": "officer@kent.police.uk",
    }  # fmt: skip
    return await bearer(client, emails[who])


async def test_a_resident_is_refused_officer_routes(client, world):
    headers = await as_(client, "resident")
    response = await client.get("/v1/me/areas", headers=headers)
    assert response.status == 403
    assert response.content_type == "application/problem+json"


async def test_an_officer_works_in_their_teams_areas(client, world):
    response = await client.get("/v1/me/areas", headers=await as_(client, "officer"))
    assert response.status == 200
    assert [a["id"] for a in (await response.json())["items"]] == [ALDERSGATE]


async def test_comms_see_every_area_of_their_force(client, world):
    response = await client.get("/v1/me/areas", headers=await as_(client, "comms"))
    assert len((await response.json())["items"]) == 25


@pytest.mark.parametrize("who", ["officer", "comms", "resident", "kent-officer"])
async def test_only_force_admins_manage_accounts(client, world, who):
    headers = await as_(client, who)
    assert (await client.get("/v1/forces/city-of-london/users", headers=headers)).status == 403
    response = await client.post(
        "/v1/forces/city-of-london/users", headers=headers,
        json={"email": "new@city.police.uk", "password": "a long password!", "role": "officer", "team": ALDERSGATE},
    )  # fmt: skip
    assert response.status == 403
    target = world["officer"].id
    assert (
        await client.patch(f"/v1/users/{target}", headers=headers, json={"disabled": True})
    ).status == 403
    assert (await User.get(id=target)).disabled_at is None


async def test_a_force_admin_manages_their_own_forces_staff(client, world):
    headers = await as_(client, "admin")
    created = await client.post(
        "/v1/forces/city-of-london/users", headers=headers,
        json={"email": "pc.new@city.police.uk", "password": "a long password!", "role": "officer",
              "team": BISHOPSGATE, "display_name": "PC New"},
    )  # fmt: skip
    assert created.status == 201
    new = await created.json()
    assert new["team"] == {"id": BISHOPSGATE, "name": "Bishopsgate"}
    listing = await (await client.get("/v1/forces/city-of-london/users", headers=headers)).json()
    assert "pc.new@city.police.uk" in {u["email"] for u in listing["items"]}
    assert "officer@kent.police.uk" not in {u["email"] for u in listing["items"]}
    moved = await client.patch(f"/v1/users/{new['id']}", headers=headers, json={"team": ALDERSGATE})
    assert (await moved.json())["team"]["id"] == ALDERSGATE
    disabled = await client.patch(
        f"/v1/users/{new['id']}", headers=headers, json={"disabled": True}
    )
    assert (await disabled.json())["disabled"] is True


async def test_a_force_admin_cannot_touch_another_forces_accounts(client, world):
    headers = await as_(client, "kent-admin")
    assert (await client.get("/v1/forces/city-of-london/users", headers=headers)).status == 403
    created = await client.post(
        "/v1/forces/city-of-london/users", headers=headers,
        json={"email": "mole@city.police.uk", "password": "a long password!", "role": "force-admin"},
    )  # fmt: skip
    assert created.status == 403
    assert not await User.exists(email="mole@city.police.uk")
    victim = world["officer"].id
    # Another force's account is reported as absent: its existence is that force's business.
    assert (await client.get(f"/v1/users/{victim}", headers=headers)).status == 404
    patched = await client.patch(
        f"/v1/users/{victim}", headers=headers, json={"disabled": True, "role": "comms"}
    )
    assert patched.status == 404
    unchanged = await User.get(id=victim)
    assert unchanged.disabled_at is None and unchanged.role == Role.OFFICER


async def test_a_force_admin_cannot_put_staff_in_another_forces_team(client, world):
    headers = await as_(client, "admin")
    response = await client.post(
        "/v1/forces/city-of-london/users", headers=headers,
        json={"email": "pc.x@city.police.uk", "password": "a long password!", "role": "officer", "team": "K01"},
    )  # fmt: skip
    assert response.status == 422
    assert (await response.json())["errors"][0]["field"] == "team"


async def test_a_force_admin_cannot_disable_or_demote_themselves(client, world):
    headers = await as_(client, "admin")
    me = world["admin"].id
    assert (
        await client.patch(f"/v1/users/{me}", headers=headers, json={"disabled": True})
    ).status == 403
    assert (
        await client.patch(f"/v1/users/{me}", headers=headers, json={"role": "officer"})
    ).status == 403


async def test_disabling_an_account_ends_its_sessions(client, world):
    officer_headers = await as_(client, "officer")
    admin_headers = await as_(client, "admin")
    response = await client.patch(
        f"/v1/users/{world['officer'].id}", headers=admin_headers, json={"disabled": True}
    )
    assert response.status == 200
    assert (await client.get("/v1/me", headers=officer_headers)).status == 401


async def test_an_officer_needs_a_team(client, world):
    headers = await as_(client, "admin")
    response = await client.post(
        "/v1/forces/city-of-london/users", headers=headers,
        json={"email": "pc.y@city.police.uk", "password": "a long password!", "role": "officer"},
    )  # fmt: skip
    assert response.status == 422
    cleared = await client.patch(
        f"/v1/users/{world['officer'].id}", headers=headers, json={"team": None}
    )
    assert cleared.status == 422
