"""Requests that overlap each other, as they do on a real server."""

from __future__ import annotations

import asyncio

from tests.helpers import bearer, create_areas, create_user


async def test_overlapping_requests_all_succeed(client, db, demo_areas):
    await create_areas(demo_areas)
    await create_user("pc.overlap@city.police.uk")
    headers = await bearer(client, "pc.overlap@city.police.uk")

    async def one(i: int) -> int:
        if i % 3 == 0:
            response = await client.get("/v1/me", headers=headers)
        elif i % 3 == 1:
            response = await client.get(
                "/v1/areas/locate", params={"lat": "51.5179", "lng": "-0.0971"}
            )
        else:
            response = await client.get("/v1/forces/city-of-london/neighbourhoods")
        return response.status

    statuses = await asyncio.gather(*(one(i) for i in range(60)))
    assert statuses == [200] * 60


async def test_right_and_wrong_passwords_for_the_same_accounts_at_once(client, db, demo_areas):
    # A good sign-in clears the account's failure counter while a bad one is counting on it.
    await create_areas(demo_areas)
    for i in range(6):
        await create_user(f"pc{i}@city.police.uk")
    # Three rounds: at most three failures per account, under the lockout limit of five.
    for _ in range(3):
        responses = await asyncio.gather(
            *(
                client.post(
                    "/v1/auth/login", json={"email": f"pc{i}@city.police.uk", "password": p}
                )
                for i in range(6)
                for p in ("correct horse battery staple", "wrong wrong wrong")
            )
        )
        assert [r.status for r in responses] == [200, 401] * 6
