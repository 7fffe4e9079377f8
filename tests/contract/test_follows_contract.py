"""Devices, follows and alert settings, every call checked against openapi.yaml."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from beat import follows
from beat.models import Neighbourhood, Role
from tests.contract.validating import ContractClient
from tests.fakes.push import Browser
from tests.helpers import ALDERSGATE, BISHOPSGATE, DEMO_FORCE, PASSWORD, create_areas, create_user

RESIDENT = "sam@example.com"
FCM = "https://fcm.googleapis.com/fcm/send/c1KrmpTuRm0:APA91bG"
FOLLOW_FIELDS = {"force", "id", "name", "centre", "links", "retired", "followed_at"}
SETTINGS = "/v1/me/alert-settings"


def follow_path(code: str = ALDERSGATE) -> str:
    return f"/v1/me/follows/{DEMO_FORCE}/{code}"


@pytest.fixture
async def world(db, demo_areas) -> None:
    await create_areas(demo_areas)
    await create_user(RESIDENT, Role.RESIDENT)


async def device(api: ContractClient) -> dict[str, str]:
    reply = await api.post("/v1/devices")
    assert reply.status == 201, reply.json
    return {"Authorization": f"Device {reply.json['device_secret']}"}


async def resident_token(api: ContractClient) -> str:
    reply = await api.post("/v1/auth/login", json_body={"email": RESIDENT, "password": PASSWORD})
    assert reply.status == 200
    return str(reply.json["access_token"])


async def test_a_device_registers_and_is_told_its_secret(contract_client, world):
    reply = await contract_client.post("/v1/devices")
    assert reply.status == 201
    assert set(reply.json) == {"device_secret", "created_at"}
    assert reply.headers["Cache-Control"] == "no-store"


async def test_registering_with_query_parameters_is_422(contract_client, world):
    reply = await contract_client.post("/v1/devices", params={"name": "phone"})
    assert reply.status == 422


async def test_a_flood_of_device_registrations_is_429(contract_client, world):
    for _ in range(follows.DEVICE_REGISTRATIONS_PER_ADDRESS):
        await device(contract_client)
    reply = await contract_client.post("/v1/devices")
    assert reply.status == 429
    assert reply.problem_type == "/problems/throttled"


async def test_a_device_follows_lists_and_unfollows(contract_client, world):
    headers = await device(contract_client)
    first = await contract_client.request("PUT", follow_path(), headers=headers)
    assert first.status == 201
    assert set(first.json) == FOLLOW_FIELDS
    assert (first.json["id"], first.json["retired"]) == (ALDERSGATE, False)
    again = await contract_client.request("PUT", follow_path(), headers=headers)
    assert (again.status, again.json) == (200, first.json)
    await contract_client.request("PUT", follow_path(BISHOPSGATE), headers=headers)
    listed = await contract_client.get("/v1/me/follows", headers=headers)
    assert [f["id"] for f in listed.json["items"]] == [ALDERSGATE, BISHOPSGATE]
    assert listed.headers["Cache-Control"] == "no-store"
    gone = await contract_client.request("DELETE", follow_path(), headers=headers)
    assert gone.status == 204
    listed = await contract_client.get("/v1/me/follows", headers=headers)
    assert [f["id"] for f in listed.json["items"]] == [BISHOPSGATE]


async def test_a_signed_in_resident_follows_with_their_token(contract_client, world):
    token = await resident_token(contract_client)
    reply = await contract_client.request("PUT", follow_path(), token=token)
    assert reply.status == 201
    listed = await contract_client.get("/v1/me/follows", token=token)
    assert [f["id"] for f in listed.json["items"]] == [ALDERSGATE]
    assert (await contract_client.request("DELETE", follow_path(), token=token)).status == 204


async def test_unknown_and_retired_areas_are_404(contract_client, world):
    headers = await device(contract_client)
    reply = await contract_client.request("PUT", follow_path("E00000000"), headers=headers)
    assert (reply.status, reply.problem_type) == (404, "/problems/not-found")
    await Neighbourhood.filter(code=BISHOPSGATE).update(retired_at=datetime.now(UTC))
    reply = await contract_client.request("PUT", follow_path(BISHOPSGATE), headers=headers)
    assert reply.status == 404
    reply = await contract_client.request("DELETE", follow_path("E00000000"), headers=headers)
    assert reply.status == 404


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", "/v1/me/follows"),
        ("PUT", follow_path()),
        ("DELETE", follow_path()),
        ("GET", SETTINGS),
        ("DELETE", "/v1/devices/me"),
    ],
)
async def test_without_credentials_is_401(contract_client, world, method, path):
    reply = await contract_client.request(method, path, off_contract=True)
    assert (reply.status, reply.problem_type) == (401, "/problems/unauthenticated")


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", "/v1/me/follows"),
        ("PUT", follow_path()),
        ("GET", SETTINGS),
        ("DELETE", "/v1/devices/me"),
    ],
)
async def test_an_unknown_device_secret_is_401(contract_client, world, method, path):
    forged = {"Authorization": "Device dv_" + "x" * 43}
    reply = await contract_client.request(method, path, headers=forged)
    assert (reply.status, reply.problem_type) == (401, "/problems/unauthenticated")


async def test_a_device_secret_sent_as_a_bearer_token_is_401(contract_client, world):
    headers = await device(contract_client)
    secret = headers["Authorization"].split()[1]
    reply = await contract_client.get("/v1/me/follows", token=secret)
    assert reply.status == 401
    reply = await contract_client.get("/v1/me", token=secret)
    assert reply.status == 401


async def test_a_device_forgets_itself(contract_client, world):
    headers = await device(contract_client)
    await contract_client.request("PUT", follow_path(), headers=headers)
    reply = await contract_client.request("DELETE", "/v1/devices/me", headers=headers)
    assert reply.status == 204
    reply = await contract_client.get("/v1/me/follows", headers=headers)
    assert reply.status == 401


async def test_a_user_cannot_forget_a_device_with_their_token(contract_client, world):
    token = await resident_token(contract_client)
    reply = await contract_client.request(
        "DELETE", "/v1/devices/me", token=token, off_contract=True
    )
    assert reply.status == 401


async def test_alert_settings_round_trip(contract_client, world):
    headers = await device(contract_client)
    fresh = await contract_client.get(SETTINGS, headers=headers)
    assert fresh.json["quiet_hours"] is None
    body = {
        "quiet_hours": {"start": "22:00", "end": "07:00"},
        "push_subscription": {**Browser().subscription(FCM), "expirationTime": None},
    }
    reply = await contract_client.request("PUT", SETTINGS, json_body=body, headers=headers)
    assert reply.status == 200
    assert reply.json == {
        "quiet_hours": {"start": "22:00", "end": "07:00"},
        "time_zone": "Europe/London",
        "push_subscribed": True,
        "vapid_public_key": None,
    }
    cleared = await contract_client.request(
        "PUT", SETTINGS, json_body={"quiet_hours": None}, headers=headers
    )
    assert (cleared.json["quiet_hours"], cleared.json["push_subscribed"]) == (None, True)


async def test_a_push_subscription_outside_the_known_services_is_422(contract_client, world):
    headers = await device(contract_client)
    push = Browser().subscription("https://push.internal.example/x")
    reply = await contract_client.request(
        "PUT", SETTINGS, json_body={"push_subscription": push}, headers=headers
    )
    assert (reply.status, reply.problem_type) == (422, "/problems/validation")
    assert [e["field"] for e in reply.json["errors"]] == ["/push_subscription/endpoint"]


@pytest.mark.parametrize(
    "body",
    [
        {"push_subscription": Browser().subscription("http://fcm.googleapis.com/x")},
        {"quiet_hours": {"start": "7am", "end": "22:00"}},
        {"quiet_hours": {"start": "07:00"}},
        {"quiet": {"start": "22:00", "end": "07:00"}},
    ],
)
async def test_settings_the_contract_refuses_are_422(contract_client, world, body):
    headers = await device(contract_client)
    reply = await contract_client.request(
        "PUT", SETTINGS, json_body=body, headers=headers, off_contract=True
    )
    assert (reply.status, reply.problem_type) == (422, "/problems/validation")


async def test_settings_that_are_not_json_are_400_or_415(contract_client, world):
    headers = await device(contract_client)
    reply = await contract_client.request(
        "PUT", SETTINGS, data=b'{"quiet_hours":', off_contract=True,
        headers={**headers, "Content-Type": "application/json"},
    )  # fmt: skip
    assert (reply.status, reply.problem_type) == (400, "/problems/bad-request")
    reply = await contract_client.request(
        "PUT", SETTINGS, data=b"quiet=22", off_contract=True,
        headers={**headers, "Content-Type": "application/x-www-form-urlencoded"},
    )  # fmt: skip
    assert reply.status == 415
