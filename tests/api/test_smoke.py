from tests.helpers import bearer, create_areas, create_user


async def test_officer_logs_in_and_sees_their_account(client, demo_areas):
    await create_areas(demo_areas)
    await create_user("pc.smith@example.police.uk")
    headers = await bearer(client, "pc.smith@example.police.uk")
    response = await client.get("/v1/me", headers=headers)
    assert response.status == 200
    body = await response.json()
    assert body["email"] == "pc.smith@example.police.uk"
    assert body["team"] == {"id": "E05009288", "name": "Aldersgate"}
