"""Follows and alert settings over HTTP, for devices and for signed-in users."""

from __future__ import annotations

import hashlib
import re
import uuid
from datetime import UTC, datetime

import pytest

from beat import follows
from beat.app import create_app
from beat.models import AreaAlert, Follow, Neighbourhood, Role, Subscriber
from tests.fakes.push import Browser, b64url, vapid_pem
from tests.helpers import ALDERSGATE, BISHOPSGATE, DEMO_FORCE, bearer, create_areas, create_user

RESIDENT = "sam@example.com"
OFFICER = "pc.smith@example.police.uk"
COMMS = "comms@example.police.uk"
FCM = "https://fcm.googleapis.com/fcm/send/c1KrmpTuRm0:APA91bG"


def follow_path(code: str = ALDERSGATE, force: str = DEMO_FORCE) -> str:
    return f"/v1/me/follows/{force}/{code}"


@pytest.fixture
async def world(db, demo_areas):
    await create_areas(demo_areas)
    await create_user(RESIDENT, Role.RESIDENT)
    await create_user(OFFICER, Role.OFFICER)
    await create_user(COMMS, Role.COMMS)


async def register(client) -> dict[str, str]:
    response = await client.post("/v1/devices")
    assert response.status == 201, await response.text()
    body = await response.json()
    return {"Authorization": f"Device {body['device_secret']}"}


async def problem(response, status: int) -> dict:
    assert response.status == status, await response.text()
    assert response.content_type == "application/problem+json"
    body: dict = await response.json()
    assert body["status"] == status
    return body


async def test_a_device_gets_its_secret_once_and_only_its_hash_is_kept(client, world):
    response = await client.post("/v1/devices")
    assert response.status == 201
    assert response.headers["Cache-Control"] == "no-store"
    secret = (await response.json())["device_secret"]
    assert re.fullmatch(r"dv_[A-Za-z0-9_-]{43}", secret)
    [stored] = await Subscriber.all()
    assert stored.device_secret_hash == hashlib.sha256(secret.encode()).hexdigest()
    assert stored.user_id is None
    assert secret not in str(await Subscriber.all().values())


async def test_a_device_follows_and_unfollows_and_repeats_change_nothing(client, world):
    device = await register(client)
    first = await client.put(follow_path(), headers=device)
    assert first.status == 201
    followed = await first.json()
    assert (followed["force"], followed["id"], followed["name"]) == (
        DEMO_FORCE, ALDERSGATE, "Aldersgate",
    )  # fmt: skip
    again = await client.put(follow_path(), headers=device)
    assert again.status == 200
    assert (await again.json())["followed_at"] == followed["followed_at"]
    assert await Follow.all().count() == 1
    listed = await (await client.get("/v1/me/follows", headers=device)).json()
    assert [(f["id"], f["retired"]) for f in listed["items"]] == [(ALDERSGATE, False)]
    for _ in range(2):
        assert (await client.delete(follow_path(), headers=device)).status == 204
    assert await Follow.all().count() == 0
    listed = await (await client.get("/v1/me/follows", headers=device)).json()
    assert listed["items"] == []


async def test_follows_are_listed_by_name(client, world):
    device = await register(client)
    for code in (BISHOPSGATE, ALDERSGATE):
        assert (await client.put(follow_path(code), headers=device)).status == 201
    listed = await (await client.get("/v1/me/follows", headers=device)).json()
    assert [f["name"] for f in listed["items"]] == ["Aldersgate", "Bishopsgate"]


@pytest.mark.parametrize("email", [RESIDENT, OFFICER, COMMS])
async def test_any_signed_in_user_may_follow(client, world, email):
    headers = await bearer(client, email)
    assert (await client.get("/v1/me/follows", headers=headers)).status == 200
    assert await Subscriber.all().count() == 0  # nothing made just by looking
    assert (await client.put(follow_path(), headers=headers)).status == 201
    assert (await client.put(follow_path(BISHOPSGATE), headers=headers)).status == 201
    [subscriber] = await Subscriber.all()
    assert (await subscriber.user).email == email  # type: ignore[union-attr]
    listed = await (await client.get("/v1/me/follows", headers=headers)).json()
    assert len(listed["items"]) == 2


async def test_a_users_and_a_devices_follows_are_their_own(client, world):
    device = await register(client)
    user = await bearer(client, RESIDENT)
    await client.put(follow_path(), headers=device)
    await client.put(follow_path(BISHOPSGATE), headers=user)
    mine = await (await client.get("/v1/me/follows", headers=user)).json()
    theirs = await (await client.get("/v1/me/follows", headers=device)).json()
    assert [f["id"] for f in mine["items"]] == [BISHOPSGATE]
    assert [f["id"] for f in theirs["items"]] == [ALDERSGATE]


async def test_unknown_and_retired_areas_cannot_be_followed(client, world):
    device = await register(client)
    assert (await client.put(follow_path(), headers=device)).status == 201
    await Neighbourhood.filter(code=ALDERSGATE).update(retired_at=datetime.now(UTC))
    listed = await (await client.get("/v1/me/follows", headers=device)).json()
    assert [(f["id"], f["retired"]) for f in listed["items"]] == [(ALDERSGATE, True)]
    body = await problem(await client.put(follow_path(), headers=device), 404)
    assert body["type"] == "/problems/not-found"
    await problem(await client.put(follow_path("E00000000"), headers=device), 404)
    await problem(await client.put(follow_path(force="atlantis"), headers=device), 404)
    # A retired area can still be unfollowed; an unknown one is not there to unfollow.
    assert (await client.delete(follow_path(), headers=device)).status == 204
    await problem(await client.delete(follow_path("E00000000"), headers=device), 404)


async def test_a_follower_may_follow_a_hundred_areas(client, world):
    device = await register(client)
    subscriber = await follows.device_subscriber(
        device["Authorization"].split()[1], datetime.now(UTC)
    )
    await Neighbourhood.bulk_create(
        [Neighbourhood(force_id=DEMO_FORCE, code=f"X{i:03d}", name=f"Ward {i}") for i in range(100)]
    )
    extra = await Neighbourhood.filter(code__startswith="X").order_by("code")
    now = datetime.now(UTC)
    await Follow.bulk_create(
        [Follow(subscriber=subscriber, neighbourhood=n, created_at=now) for n in extra]
    )
    body = await problem(await client.put(follow_path(), headers=device), 409)
    assert "100" in body["detail"]
    assert (await client.put(follow_path("X000"), headers=device)).status == 200


@pytest.mark.parametrize(
    "authorization",
    [
        None,
        "Device",
        "Device not-a-secret",
        f"Device dv_{'A' * 43}",  # well-formed, but no device has it
        f"Device dv_{'A' * 42}!",
        "Basic c2FtOnNlY3JldA==",
    ],
)
async def test_a_missing_or_forged_device_secret_is_401(client, world, authorization):
    await register(client)  # a real device exists; the forged secret is not its
    headers = {"Authorization": authorization} if authorization else {}
    for method, path in [
        ("GET", "/v1/me/follows"),
        ("PUT", follow_path()),
        ("DELETE", follow_path()),
        ("GET", "/v1/me/alert-settings"),
        ("DELETE", "/v1/devices/me"),
    ]:
        response = await client.request(method, path, headers=headers)
        body = await problem(response, 401)
        assert body["type"] == "/problems/unauthenticated"
    assert await Follow.all().count() == 0


async def test_a_device_secret_is_refused_as_an_access_token(client, world):
    device = await register(client)
    as_bearer = {"Authorization": device["Authorization"].replace("Device", "Bearer")}
    for method, path in [
        ("GET", "/v1/me/follows"),
        ("PUT", follow_path()),
        ("GET", "/v1/me"),
        ("GET", "/v1/me/notifications"),
    ]:
        await problem(await client.request(method, path, headers=as_bearer), 401)
    assert await Follow.all().count() == 0


async def test_an_access_token_is_refused_as_a_device_secret(client, world):
    token = (await bearer(client, RESIDENT))["Authorization"].split()[1]
    as_device = {"Authorization": f"Device {token}"}
    await problem(await client.get("/v1/me/follows", headers=as_device), 401)
    await problem(await client.put(follow_path(), headers=as_device), 401)
    # Forgetting a device takes a device secret, never a user's token.
    as_bearer = {"Authorization": f"Bearer {token}"}
    await problem(await client.delete("/v1/devices/me", headers=as_bearer), 401)
    assert await Subscriber.all().count() == 0


async def test_device_registrations_are_limited_per_address(client, world):
    for _ in range(follows.DEVICE_REGISTRATIONS_PER_ADDRESS):
        assert (await client.post("/v1/devices")).status == 201
    response = await client.post("/v1/devices")
    body = await problem(response, 429)
    assert body["type"] == "/problems/throttled"
    assert int(response.headers["Retry-After"]) > 0
    assert await Subscriber.all().count() == follows.DEVICE_REGISTRATIONS_PER_ADDRESS


async def test_forgetting_a_device_removes_everything_about_it(client, world):
    device = await register(client)
    other = await register(client)
    await client.put(follow_path(), headers=device)
    await client.put(follow_path(), headers=other)
    settings = {"quiet_hours": {"start": "22:00", "end": "07:00"}}
    assert (await client.put("/v1/me/alert-settings", json=settings, headers=device)).status == 200
    assert (await client.delete("/v1/devices/me", headers=device)).status == 204
    await problem(await client.get("/v1/me/follows", headers=device), 401)
    await problem(await client.delete("/v1/devices/me", headers=device), 401)
    assert await Subscriber.all().count() == 1
    assert await Follow.all().count() == 1  # the other device's


async def test_quiet_hours_are_set_read_and_cleared(client, world):
    device = await register(client)
    fresh = await (await client.get("/v1/me/alert-settings", headers=device)).json()
    assert fresh == {
        "quiet_hours": None,
        "time_zone": "Europe/London",
        "push_subscribed": False,
        "vapid_public_key": None,
    }
    quiet = {"start": "22:30", "end": "06:45"}
    response = await client.put(
        "/v1/me/alert-settings", json={"quiet_hours": quiet}, headers=device
    )
    assert response.status == 200
    assert (await response.json())["quiet_hours"] == quiet
    [stored] = await Subscriber.all()
    assert (stored.quiet_start, stored.quiet_end) == (22 * 60 + 30, 6 * 60 + 45)
    push = Browser().subscription(FCM)
    response = await client.put(
        "/v1/me/alert-settings", json={"push_subscription": push}, headers=device
    )
    body = await response.json()
    assert (body["quiet_hours"], body["push_subscribed"]) == (quiet, True)
    response = await client.put("/v1/me/alert-settings", json={"quiet_hours": None}, headers=device)
    body = await response.json()
    assert (body["quiet_hours"], body["push_subscribed"]) == (None, True)
    response = await client.put(
        "/v1/me/alert-settings", json={"push_subscription": None}, headers=device
    )
    assert (await response.json())["push_subscribed"] is False
    assert (await Subscriber.get(id=stored.id)).push_subscription is None


@pytest.mark.parametrize(
    ("quiet", "field"),
    [
        ({"start": "22:00"}, "/quiet_hours/end"),
        ({"start": "22:00", "end": "25:00"}, "/quiet_hours/end"),
        ({"start": "10pm", "end": "07:00"}, "/quiet_hours/start"),
        ({"start": "07:00", "end": "07:00"}, "/quiet_hours/end"),
        ({"start": 1320, "end": 420}, "/quiet_hours/start"),
    ],
)
async def test_quiet_hours_need_both_times_as_hh_mm(client, world, quiet, field):
    device = await register(client)
    response = await client.put(
        "/v1/me/alert-settings", json={"quiet_hours": quiet}, headers=device
    )
    body = await problem(response, 422)
    assert field in [e["field"] for e in body["errors"]]
    assert (await Subscriber.get()).quiet_start is None


P256DH = Browser().subscription(FCM)["keys"]["p256dh"]
AUTH = b64url(bytes(16))


@pytest.mark.parametrize(
    ("endpoint", "p256dh", "auth", "field"),
    [
        ("http://fcm.googleapis.com/fcm/send/x", P256DH, AUTH, "/push_subscription/endpoint"),
        ("https://10.0.0.5/push/x", P256DH, AUTH, "/push_subscription/endpoint"),
        ("https://[::1]/push/x", P256DH, AUTH, "/push_subscription/endpoint"),
        ("https://localhost/push/x", P256DH, AUTH, "/push_subscription/endpoint"),
        ("https://internal.example/push", P256DH, AUTH, "/push_subscription/endpoint"),
        ("https://evilfcm.googleapis.com.example/x", P256DH, AUTH, "/push_subscription/endpoint"),
        ("https://u:p@fcm.googleapis.com/fcm/x", P256DH, AUTH, "/push_subscription/endpoint"),
        ("https://fcm.googleapis.com:notaport/x", P256DH, AUTH, "/push_subscription/endpoint"),
        (FCM, P256DH[:-4], AUTH, "/push_subscription/keys/p256dh"),
        (FCM, "B" + "A" * 86, AUTH, "/push_subscription/keys/p256dh"),  # not on the curve
        (FCM, "not base64!", AUTH, "/push_subscription/keys/p256dh"),
        (FCM, P256DH, b64url(bytes(15)), "/push_subscription/keys/auth"),
    ],
)
async def test_a_push_subscription_must_be_usable(client, world, endpoint, p256dh, auth, field):
    device = await register(client)
    push = {"endpoint": endpoint, "keys": {"p256dh": p256dh, "auth": auth}}
    response = await client.put(
        "/v1/me/alert-settings", json={"push_subscription": push}, headers=device
    )
    body = await problem(response, 422)
    assert [e["field"] for e in body["errors"]] == [field]
    assert (await Subscriber.get()).push_subscription is None


async def test_push_subscriptions_from_every_major_browser_are_accepted(client, world):
    device = await register(client)
    for endpoint in (
        FCM,
        "https://updates.push.services.mozilla.com/wpush/v2/gAAAAABh",
        "https://web.push.apple.com/QGuQyavXutnMH",
        "https://wns2-par02p.notify.windows.com/w/?token=BQYAAAD",
    ):
        push = {**Browser().subscription(endpoint), "expirationTime": None}
        response = await client.put(
            "/v1/me/alert-settings", json={"push_subscription": push}, headers=device
        )
        assert response.status == 200, await response.text()
    stored = (await Subscriber.get()).push_subscription
    assert stored is not None and stored["endpoint"].startswith("https://wns2-par02p.")


async def test_the_app_learns_the_servers_push_key(aiohttp_client, settings, clock, db, world):
    configured = settings.with_overrides(
        vapid_private_key=vapid_pem(), vapid_subject="mailto:alerts@beat.example"
    )
    client = await aiohttp_client(create_app(configured, clock=clock))
    device = await register(client)
    body = await (await client.get("/v1/me/alert-settings", headers=device)).json()
    key = follows.vapid_key(configured)
    assert key is not None and body["vapid_public_key"] == key.public_key


async def test_a_post_published_in_a_followed_area_alerts_the_device(client, world):
    device = await register(client)
    resident = await bearer(client, RESIDENT)
    await client.put(follow_path(), headers=device)
    await client.put(follow_path(), headers=resident)
    officer = await bearer(client, OFFICER)
    response = await client.post(
        "/v1/posts",
        json={"text": "Patrolling Aldersgate Street tonight.", "neighbourhoods": [ALDERSGATE]},
        headers={**officer, "Idempotency-Key": str(uuid.uuid4())},
    )
    assert response.status == 201, await response.text()
    post = await response.json()
    assert post["status"] == "published"
    alerts = await AreaAlert.filter(post_id=post["id"]).values_list("subscriber_id", "status")
    subscribers = await Subscriber.all().order_by("id").values_list("id", flat=True)
    assert sorted(alerts) == [(s, "pending") for s in subscribers]
    assert len(alerts) == 2
