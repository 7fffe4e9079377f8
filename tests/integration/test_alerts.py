"""Area alerts on a real database: queued on publication, sent once, and Web Push over TLS."""

from __future__ import annotations

import asyncio
import logging
import uuid
from datetime import UTC, datetime, timedelta

import aiohttp
import pytest

from beat import follows, forces, posts
from beat.areas import AreaLocator
from beat.errors import ConfigError
from beat.follows import AlertError, AlertFailure, AlertPayload
from beat.models import AreaAlert, ForceSettings, Post, Role, Subscriber
from beat.push import sender_for
from beat.push.webpush import WebPushSender
from beat.scheduler.jobs import JOBS, JobContext
from beat.settings import Settings
from tests.fakes.push import (
    HOST,
    Browser,
    FakePushService,
    LoopbackResolver,
    b64url,
    tls_for,
    vapid_pem,
)
from tests.helpers import ALDERSGATE, BISHOPSGATE, DEMO_FORCE, create_areas, create_user

ALDGATE = "E05009289"
CLEAN = "Patrolling Aldersgate Street this evening after reports of bike thefts."
RISKY = "Call me on 07700 900123 if you saw the van in Aldersgate Street last night."


@pytest.fixture
async def world(db, demo_areas):
    await create_areas(demo_areas)
    officer = await create_user("pc@city.police.uk", Role.OFFICER)
    comms = await create_user("comms@city.police.uk", Role.COMMS)
    await forces.settings_of(DEMO_FORCE)
    # The officer may tag any ward, so one post can be about several followed areas.
    await ForceSettings.filter(force_id=DEMO_FORCE).update(officers_post_force_wide=True)
    return {"officer": officer, "comms": comms}


async def new_device(settings, clock, *areas: str, quiet: tuple[str, str] | None = None):
    device = await follows.register_device(address="192.0.2.1", settings=settings, now=clock())
    for code in areas:
        await follows.follow(device.subscriber, DEMO_FORCE, code, clock())
    if quiet is not None:
        await follows.set_alert_settings(
            device.subscriber, quiet_hours=follows.QuietHours.parse(*quiet)
        )
    return device.subscriber


async def publish(world, clock, *areas: str, text: str = CLEAN) -> Post:
    view, _ = await posts.create_post(
        world["officer"], posts.PostInput(text=text, neighbourhoods=list(areas or [ALDERSGATE])),
        idempotency_key=uuid.uuid4(), now=clock(), locator=AreaLocator(),
    )  # fmt: skip
    return view.post


async def alerts_of(post: Post) -> list[AreaAlert]:
    return (
        await AreaAlert.filter(post_id=post.id)
        .order_by("subscriber_id")
        .select_related("neighbourhood")
    )


class Recorder:
    """A push service stand-in: records what it is handed, fails as told."""

    def __init__(self, failure: AlertError | None = None) -> None:
        self.sent: list[AlertPayload] = []
        self.failure = failure

    async def send(self, alert: AlertPayload) -> None:
        await asyncio.sleep(0)  # let concurrent workers interleave
        if self.failure is not None:
            raise self.failure
        self.sent.append(alert)


# ---- queueing ----------------------------------------------------------------------------------


async def test_a_published_post_alerts_each_follower_of_its_areas_once(world, settings, clock):
    one_area = await new_device(settings, clock, ALDERSGATE)
    both_areas = await new_device(settings, clock, BISHOPSGATE, ALDERSGATE)
    elsewhere = await new_device(settings, clock, ALDGATE)
    post = await publish(world, clock, ALDERSGATE, BISHOPSGATE)
    assert post.status.value == "published"
    alerts = await alerts_of(post)
    assert [(a.subscriber_id, a.status, a.due_at) for a in alerts] == [
        (one_area.id, "pending", clock()),
        (both_areas.id, "pending", clock()),
    ]
    assert elsewhere.id not in {a.subscriber_id for a in alerts}
    # The alert names the first of the post's areas the follower follows.
    assert {a.subscriber_id: a.neighbourhood.code for a in alerts}[both_areas.id] == ALDERSGATE


async def test_a_post_nobody_follows_queues_nothing(world, settings, clock):
    await new_device(settings, clock, ALDGATE)
    post = await publish(world, clock, ALDERSGATE)
    assert await alerts_of(post) == []


async def test_a_post_waiting_on_the_desk_alerts_nobody_until_published(world, settings, clock):
    await new_device(settings, clock, ALDERSGATE)
    post = await publish(world, clock, ALDERSGATE, text=RISKY)
    assert post.status.value == "pending-review"
    assert await alerts_of(post) == []


async def test_quiet_hours_delay_the_alert_across_the_clocks_going_forward(world, settings, clock):
    # 23:00 GMT on Saturday 28 March 2026; the clocks go forward that night.
    clock.now = datetime(2026, 3, 28, 23, 0, tzinfo=UTC)
    quiet = await new_device(settings, clock, ALDERSGATE, quiet=("22:00", "07:00"))
    awake = await new_device(settings, clock, ALDERSGATE, quiet=("01:00", "06:00"))
    post = await publish(world, clock, ALDERSGATE)
    due = {a.subscriber_id: a.due_at for a in await alerts_of(post)}
    assert due == {
        quiet.id: datetime(2026, 3, 29, 6, 0, tzinfo=UTC),  # 07:00 BST
        awake.id: clock(),
    }


async def test_quiet_hours_delay_the_alert_across_the_clocks_going_back(world, settings, clock):
    # 23:30 BST on Saturday 24 October 2026; the clocks go back that night.
    clock.now = datetime(2026, 10, 24, 22, 30, tzinfo=UTC)
    quiet = await new_device(settings, clock, ALDERSGATE, quiet=("22:00", "07:00"))
    post = await publish(world, clock, ALDERSGATE)
    [alert] = await alerts_of(post)
    assert (alert.subscriber_id, alert.due_at) == (
        quiet.id,
        datetime(2026, 10, 25, 7, 0, tzinfo=UTC),  # 07:00 GMT
    )
    assert await follows.send_due_alerts(clock(), Recorder()) == 0
    assert await follows.send_due_alerts(alert.due_at, Recorder()) == 1


async def test_withdrawal_before_sending_cancels_the_alerts(world, settings, clock):
    await new_device(settings, clock, ALDERSGATE, quiet=("00:00", "23:59"))
    await new_device(settings, clock, ALDERSGATE)
    post = await publish(world, clock, ALDERSGATE)
    await posts.withdraw(world["comms"], post.id, reason="Wrong street named", now=clock())
    alerts = await alerts_of(post)
    assert [(a.status, a.last_error) for a in alerts] == [
        ("cancelled", "withdrawn: Wrong street named")
    ] * 2
    sender = Recorder()
    assert await follows.send_due_alerts(clock() + timedelta(days=1), sender) == 0
    assert sender.sent == []


async def test_a_correction_sent_to_the_desk_cancels_the_alerts(world, settings, clock):
    await new_device(settings, clock, ALDERSGATE)
    post = await publish(world, clock, ALDERSGATE)
    await posts.edit_post(
        world["officer"], post.id, posts.PostEdit(version=post.version, text=RISKY), now=clock()
    )
    assert [a.status for a in await alerts_of(post)] == ["cancelled"]
    assert await follows.send_due_alerts(clock(), Recorder()) == 0


async def test_a_correction_alerts_nobody_twice(world, settings, clock):
    await new_device(settings, clock, ALDERSGATE)
    post = await publish(world, clock, ALDERSGATE)
    sender = Recorder()
    assert await follows.send_due_alerts(clock(), sender) == 1
    clock.advance(minutes=5)
    view = await posts.edit_post(
        world["officer"], post.id,
        posts.PostEdit(version=post.version, text=CLEAN + " Corrected."), now=clock(),
    )  # fmt: skip
    assert view.post.status.value == "published"  # clean again: published at once
    assert [a.status for a in await alerts_of(post)] == ["sent"]
    assert await follows.send_due_alerts(clock(), sender) == 0
    assert len(sender.sent) == 1


async def test_an_alert_whose_post_left_the_public_is_not_sent(world, settings, clock):
    """Checked again at send time, for an alert claimed before the withdrawal cancelled it."""
    await new_device(settings, clock, ALDERSGATE)
    post = await publish(world, clock, ALDERSGATE)
    await Post.filter(id=post.id).update(status="withdrawn")
    sender = Recorder()
    assert await follows.send_due_alerts(clock(), sender) == 0
    assert sender.sent == []
    assert [(a.status, a.last_error) for a in await alerts_of(post)] == [
        ("cancelled", "the post is withdrawn")
    ]


# ---- sending -----------------------------------------------------------------------------------


async def test_an_alert_carries_the_post_and_its_area(world, settings, clock):
    subscriber = await new_device(settings, clock, ALDERSGATE)
    post = await publish(world, clock, ALDERSGATE)
    sender = Recorder()
    assert await follows.send_due_alerts(clock(), sender) == 1
    [sent] = sender.sent
    assert (sent.subscriber_id, sent.post_id, sent.force, sent.neighbourhood, sent.area_name) == (
        subscriber.id, post.id, DEMO_FORCE, ALDERSGATE, "Aldersgate",
    )  # fmt: skip
    assert sent.text == CLEAN
    [alert] = await alerts_of(post)
    assert (alert.status, alert.sent_at, alert.attempts) == ("sent", clock(), 1)


async def test_two_concurrent_senders_send_each_alert_once(world, settings, clock):
    followers = [await new_device(settings, clock, ALDERSGATE) for _ in range(12)]
    first = await publish(world, clock, ALDERSGATE)
    second = await publish(world, clock, ALDERSGATE, text=CLEAN + " Again.")
    sender = Recorder()
    counts = await asyncio.gather(
        follows.send_due_alerts(clock(), sender, limit=10),
        follows.send_due_alerts(clock(), sender, limit=10),
        follows.send_due_alerts(clock(), sender, limit=10),
    )
    while await follows.send_due_alerts(clock(), sender, limit=10):
        pass
    sent = [(p.post_id, p.subscriber_id) for p in sender.sent]
    assert len(sent) == len(set(sent)) == 2 * len(followers)
    assert sum(counts) <= len(sent)
    statuses = {a.status for p in (first, second) for a in await alerts_of(p)}
    assert statuses == {"sent"}


async def test_outages_are_retried_with_backoff_then_given_up(world, settings, clock):
    await new_device(settings, clock, ALDERSGATE)
    post = await publish(world, clock, ALDERSGATE)
    down = Recorder(AlertError(AlertFailure.TEMPORARY, "push service answered 503"))
    assert await follows.send_due_alerts(clock(), down, max_attempts=3) == 0
    [alert] = await alerts_of(post)
    assert (alert.status, alert.attempts, alert.last_error) == (
        "pending", 1, "temporary: push service answered 503",
    )  # fmt: skip
    assert alert.due_at > clock()
    assert await follows.send_due_alerts(clock(), down, max_attempts=3) == 0  # not due yet
    for _ in range(2):
        [alert] = await alerts_of(post)
        assert await follows.send_due_alerts(alert.due_at, down, max_attempts=3) == 0
    [alert] = await alerts_of(post)
    assert (alert.status, alert.attempts) == ("failed", 3)
    assert alert.last_error.startswith("gave up after 3 attempts")


async def test_a_refused_alert_is_not_retried(world, settings, clock):
    await new_device(settings, clock, ALDERSGATE)
    post = await publish(world, clock, ALDERSGATE)
    refused = Recorder(AlertError(AlertFailure.PERMANENT, "push service answered 400"))
    assert await follows.send_due_alerts(clock(), refused) == 0
    [alert] = await alerts_of(post)
    assert (alert.status, alert.attempts) == ("failed", 1)


async def test_an_alert_held_by_a_worker_that_died_is_taken_over_after_its_lease(
    world, settings, clock
):
    await new_device(settings, clock, ALDERSGATE)
    post = await publish(world, clock, ALDERSGATE)
    entered = asyncio.Event()

    class Hangs:
        async def send(self, alert: AlertPayload) -> None:
            entered.set()
            await asyncio.Event().wait()

    worker = asyncio.create_task(follows.send_due_alerts(clock(), Hangs()))
    await entered.wait()
    worker.cancel()
    with pytest.raises(asyncio.CancelledError):
        await worker
    [alert] = await alerts_of(post)
    assert alert.status == "sending"
    sender = Recorder()
    assert await follows.send_due_alerts(clock() + timedelta(minutes=1), sender) == 0
    assert await follows.send_due_alerts(alert.due_at, sender) == 1
    [alert] = await alerts_of(post)
    assert (alert.status, alert.attempts) == ("sent", 2)


async def test_the_logging_sender_names_nobody_and_logs_no_secret(world, settings, clock, caplog):
    device = await follows.register_device(address="192.0.2.1", settings=settings, now=clock())
    await follows.follow(device.subscriber, DEMO_FORCE, ALDERSGATE, clock())
    browser = Browser()
    subscription = browser.subscription("https://fcm.googleapis.com/fcm/send/private-token-42")
    await follows.set_alert_settings(device.subscriber, push_subscription=subscription)
    caplog.set_level(logging.INFO)
    await publish(world, clock, ALDERSGATE)
    assert await follows.send_due_alerts(clock(), follows.LoggingSender()) == 1
    [line] = [r for r in caplog.records if r.getMessage() == "area alert"]
    assert line.subscriber == device.subscriber.id
    logged = " ".join(f"{r.getMessage()} {r.__dict__}" for r in caplog.records)
    for secret in (
        device.secret,
        follows.hash_device_secret(device.secret),
        "private-token-42",
        subscription["keys"]["p256dh"],
        subscription["keys"]["auth"],
        CLEAN,
    ):
        assert secret not in logged


# ---- Web Push --------------------------------------------------------------------------------


@pytest.fixture
async def push_service(aiohttp_server, tmp_path):
    fake = FakePushService()
    tls = tls_for(HOST, tmp_path)
    server = await aiohttp_server(fake.app, ssl=tls.server)
    fake.origin = f"https://{HOST}:{server.port}"
    connector = aiohttp.TCPConnector(ssl=tls.client, resolver=LoopbackResolver())
    async with aiohttp.ClientSession(connector=connector) as session:
        yield fake, session


@pytest.fixture
def push_settings(settings):
    return settings.with_overrides(
        vapid_private_key=vapid_pem(),
        vapid_subject="mailto:alerts@beat.example",
        push_service_hosts=(HOST,),
        public_base_url="https://beat.example",
    )


async def push_follower(push_settings, clock, fake: FakePushService, token: str):
    subscriber = await new_device(push_settings, clock, ALDERSGATE)
    browser = Browser()
    raw = browser.subscription(f"{fake.origin}/push/{token}")
    checked = follows.check_push_subscription(
        raw["endpoint"], raw["keys"]["p256dh"], raw["keys"]["auth"],
        allowed_hosts=push_settings.push_service_hosts,
    )  # fmt: skip
    await follows.set_alert_settings(subscriber, push_subscription=checked)
    return subscriber, browser


async def test_web_push_delivers_an_encrypted_signed_alert(
    world, push_settings, clock, push_service
):
    fake, session = push_service
    subscriber, browser = await push_follower(push_settings, clock, fake, "tok-1")
    post = await publish(world, clock, ALDERSGATE)
    sender = sender_for(push_settings, session)
    assert isinstance(sender, WebPushSender)
    assert await follows.send_due_alerts(clock(), sender) == 1
    assert fake.refused == []
    [got] = fake.received
    key = follows.vapid_key(push_settings)
    assert key is not None
    assert (got.token, got.vapid_key) == ("tok-1", key.public_key)
    assert (got.claims["aud"], got.claims["sub"]) == (fake.origin, "mailto:alerts@beat.example")
    assert got.headers["Content-Encoding"] == "aes128gcm"
    assert int(got.headers["TTL"]) > 0
    message = browser.decrypt(got.body)
    assert message == {
        "type": "area-post",
        "title": "New from Aldersgate",
        "body": CLEAN,
        "url": f"https://beat.example/v1/posts/{post.id}",
        "post": str(post.id),
        "force": DEMO_FORCE,
        "neighbourhood": ALDERSGATE,
    }
    [alert] = await alerts_of(post)
    assert (alert.subscriber_id, alert.status) == (subscriber.id, "sent")


async def test_a_subscription_the_push_service_calls_gone_is_forgotten(
    world, push_settings, clock, push_service
):
    fake, session = push_service
    fake.status_for["tok-gone"] = 410
    gone, _ = await push_follower(push_settings, clock, fake, "tok-gone")
    kept, _ = await push_follower(push_settings, clock, fake, "tok-kept")
    post = await publish(world, clock, ALDERSGATE)
    sent = await follows.send_due_alerts(clock(), sender_for(push_settings, session))
    assert sent == 1
    assert (await Subscriber.get(id=gone.id)).push_subscription is None
    assert (await Subscriber.get(id=kept.id)).push_subscription is not None
    status = {a.subscriber_id: (a.status, a.last_error) for a in await alerts_of(post)}
    assert status[gone.id] == ("failed", f"gone: {HOST} answered 410")
    assert status[kept.id] == ("sent", "")


async def test_a_push_service_outage_is_retried(world, push_settings, clock, push_service):
    fake, session = push_service
    fake.status_for["tok-busy"] = 503
    subscriber, _ = await push_follower(push_settings, clock, fake, "tok-busy")
    post = await publish(world, clock, ALDERSGATE)
    assert await follows.send_due_alerts(clock(), sender_for(push_settings, session)) == 0
    [alert] = await alerts_of(post)
    assert (alert.status, alert.last_error) == ("pending", f"temporary: {HOST} answered 503")
    assert (await Subscriber.get(id=subscriber.id)).push_subscription is not None


async def test_web_push_gives_up_on_a_follower_without_a_subscription(
    world, push_settings, clock, push_service
):
    _, session = push_service
    await new_device(push_settings, clock, ALDERSGATE)
    post = await publish(world, clock, ALDERSGATE)
    assert await follows.send_due_alerts(clock(), sender_for(push_settings, session)) == 0
    [alert] = await alerts_of(post)
    assert (alert.status, alert.attempts) == ("failed", 1)
    assert "no push subscription" in alert.last_error


async def test_without_a_vapid_key_alerts_are_logged(settings):
    async with aiohttp.ClientSession() as session:
        assert isinstance(sender_for(settings, session), follows.LoggingSender)


@pytest.mark.parametrize(
    "key",
    [
        "not a key",
        "-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----",
        b64url(b"x" * 31),
    ],
)
def test_a_malformed_vapid_key_is_a_config_error(settings, key):
    broken = settings.with_overrides(vapid_private_key=key, vapid_subject="mailto:a@b.example")
    with pytest.raises(ConfigError) as caught:
        follows.vapid_key(broken)
    assert key not in str(caught.value)


def test_a_vapid_key_needs_a_contact(settings):
    with pytest.raises(ConfigError, match="BEAT_VAPID_SUBJECT"):
        follows.vapid_key(settings.with_overrides(vapid_private_key=vapid_pem()))


def test_the_vapid_key_may_be_a_file_in_the_data_dir(settings):
    settings.vapid_key_file.parent.mkdir(parents=True, exist_ok=True)
    settings.vapid_key_file.write_text(vapid_pem())
    key = follows.vapid_key(settings.with_overrides(vapid_subject="https://beat.example"))
    assert key is not None and len(key.public_key) == 87


def test_push_settings_come_from_the_environment():
    pem = vapid_pem()
    read = Settings.from_env(
        {
            "BEAT_VAPID_PRIVATE_KEY": pem,
            "BEAT_VAPID_SUBJECT": "mailto:alerts@beat.example",
            "BEAT_PUSH_SERVICE_HOSTS": " push.example.test, Push.Other.example ",
        }
    )
    assert (read.vapid_private_key, read.vapid_subject) == (pem, "mailto:alerts@beat.example")
    assert read.push_service_hosts == ("push.example.test", "push.other.example")
    assert pem not in repr(read)
    assert "fcm.googleapis.com" in Settings.from_env({}).push_service_hosts


async def test_the_scheduled_job_sends_due_alerts_through_its_sender(world, settings, clock):
    await new_device(settings, clock, ALDERSGATE)
    await publish(world, clock, ALDERSGATE)
    [job] = [j for j in JOBS if j.name == "send-area-alerts"]

    async def no_channels(now: datetime) -> int:
        return 0

    sender = Recorder()
    context = JobContext(clock(), settings.photos_dir, no_channels, alert_sender=sender)
    assert await job.run(context) == 1
    assert [p.neighbourhood for p in sender.sent] == [ALDERSGATE]
    assert await job.run(context) == 0
