"""Approved posts reach X, Mastodon and Bluesky through the real adapters and local servers
speaking each platform's wire format; outages and rate limits delay but never drop or double."""

from __future__ import annotations

import asyncio
import dataclasses
import json
import time
import uuid

import aiohttp
import pytest

from beat import channel_accounts, posts, publishing
from beat.app import channel_factory
from beat.areas import AreaLocator
from beat.clock import utcnow
from beat.credentials import CredentialBox
from beat.models import ChannelAccount, Delivery, DeliveryAttempt, Role
from beat.scheduler.runner import DeliveryWorker
from tests.fakes.bluesky import APP_PASSWORD, HANDLE, FakeBluesky
from tests.fakes.mastodon import TOKEN, FakeMastodon
from tests.fakes.x import CREDENTIALS, FakeX
from tests.helpers import ALDERSGATE, DEMO_FORCE, create_areas, create_user

TEXT = "Patrolling Aldersgate Street this evening after reports of bike thefts. Lock it up!"


@pytest.fixture
async def platforms(aiohttp_server):
    fakes = {"x": FakeX(), "mastodon": FakeMastodon(), "bluesky": FakeBluesky()}
    servers = {name: await aiohttp_server(fake.app) for name, fake in fakes.items()}
    return fakes, {name: str(server.make_url("")).rstrip("/") for name, server in servers.items()}


@pytest.fixture
async def world(db, demo_areas, settings, platforms):
    fakes, urls = platforms
    await create_areas(demo_areas)
    settings = dataclasses.replace(
        settings, x_api_url=urls["x"], delivery_backoff_base_seconds=0.05, channel_timeout_seconds=2
    )
    box = CredentialBox(settings.channel_keys_file)
    creds = {
        "x": CREDENTIALS,
        "mastodon": {"base_url": urls["mastodon"], "access_token": TOKEN},
        "bluesky": {"base_url": urls["bluesky"], "handle": HANDLE, "app_password": APP_PASSWORD},
    }
    for kind, raw in creds.items():
        await channel_accounts.add_account(
            None, DEMO_FORCE, kind=kind, name=f"City {kind}", neighbourhoods=[ALDERSGATE],
            force_wide=False, raw_credentials=raw, box=box, now=utcnow(),
        )  # fmt: skip
    return {
        "settings": settings, "box": box, "fakes": fakes,
        "officer": await create_user("pc@city.police.uk", Role.OFFICER),
        "comms": await create_user("comms@city.police.uk", Role.COMMS),
    }  # fmt: skip


@pytest.fixture
async def worker(world, db):
    settings = world["settings"]
    async with aiohttp.ClientSession() as session:
        channel_for = channel_factory(settings, session, world["box"])

        async def render(account, post):
            return await publishing.parts_for(
                account, post, base_url="https://beat.example", photos_dir=settings.photos_dir
            )

        yield DeliveryWorker(
            db, settings, worker_id="w1", clock=utcnow, channel_for=channel_for, render=render
        )


async def post(world, text: str = TEXT):
    view, _ = await posts.create_post(
        world["officer"], posts.PostInput(text=text, neighbourhoods=[ALDERSGATE]),
        idempotency_key=uuid.uuid4(), now=utcnow(), locator=AreaLocator(),
    )  # fmt: skip
    return view.post


async def drain(worker, *, seconds: float = 10.0) -> None:
    """Run the worker until nothing is left to send, within a time limit."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        await worker.run_once()
        if not await Delivery.filter(status__in=["pending", "sending"]).exists():
            return
        await asyncio.sleep(0.05)
    raise AssertionError("deliveries still pending: " + json.dumps(
        await Delivery.filter(status__in=["pending", "sending"]).values("id", "status", "last_error"), default=str
    ))  # fmt: skip


async def test_an_approved_post_reaches_every_channel_once(world, worker):
    made = await post(world)
    await drain(worker)
    for name, fake in world["fakes"].items():
        live = fake.state.live()
        assert len(live) == 1, name
        assert TEXT in live[0].text and "#Aldersgate" in live[0].text, name
    deliveries = await Delivery.filter(post_id=made.id).values_list("status", flat=True)
    assert sorted(deliveries) == ["sent"] * 3
    view = await posts.load(made.id)
    assert view.post.status == "published"


async def test_outages_and_rate_limits_delay_but_never_drop_or_double(world, worker):
    x = world["fakes"]["x"]
    x.window(0.6, status=503)
    x.rate_limit(1.2, reset_in=1.2, on="create")
    made = [await post(world, f"Update {i}: {TEXT}") for i in range(5)]
    await drain(worker, seconds=20)
    assert sorted(p.text.split(":")[0] for p in x.state.live()) == [f"Update {i}" for i in range(5)]
    assert len(x.state.posts) == 5  # nothing posted twice, nothing deleted
    for p in made:
        assert await Delivery.filter(post_id=p.id, status="sent").count() == 3
    outcomes = set(await DeliveryAttempt.all().values_list("outcome", flat=True))
    assert {"unavailable", "rate-limited", "sent"} <= outcomes  # the faults really happened


async def test_withdrawing_a_published_post_removes_it_everywhere(world, worker):
    made = await post(world)
    await drain(worker)
    await posts.withdraw(world["comms"], made.id, reason="Legal advice", now=utcnow())
    await drain(worker)
    for name, fake in world["fakes"].items():
        assert fake.state.live() == [], name
        assert len(fake.state.posts) == 1, name  # it was there, and is now deleted


async def test_a_correction_after_publication_replaces_the_copy_everywhere(world, worker):
    """The author corrects a published post: the old copies come down from every platform and
    the corrected text goes out once in their place."""
    made = await post(world)
    await drain(worker)
    view = await posts.load(made.id)
    corrected = TEXT.replace("this evening", "tonight until 11pm")
    await posts.edit_post(
        world["officer"], made.id, posts.PostEdit(version=view.post.version, text=corrected),
        now=utcnow(),
    )  # fmt: skip
    assert (await posts.load(made.id)).post.status == "published"  # back through the checks
    await drain(worker)
    for name, fake in world["fakes"].items():
        live = [p.text for p in fake.state.live()]
        assert len(live) == 1 and corrected in live[0], name
        assert len(fake.state.posts) == 2, name  # the first copy deleted, not left beside it
    rows = await Delivery.filter(post_id=made.id).values_list("action", "post_version", "status")
    assert sorted(rows) == sorted(
        [("publish", 1, "sent"), ("delete", 1, "sent"), ("publish", 2, "sent")] * 3
    )


async def test_an_x_account_on_oauth2_renews_its_tokens_mid_run(world, worker):
    """An X account connected with OAuth 2.0 user tokens: the access token expires between
    posts; the worker renews it once, stores the new pair, and nothing is lost or doubled."""
    x = world["fakes"]["x"]
    old = await ChannelAccount.get(kind="x")
    await channel_accounts.remove_account(None, DEMO_FORCE, old.id, now=utcnow())
    issued = x.issue_oauth2_tokens()
    await channel_accounts.add_account(
        None, DEMO_FORCE, kind="x", name="City X (OAuth 2.0)", neighbourhoods=[ALDERSGATE],
        force_wide=False, raw_credentials=issued, box=world["box"], now=utcnow(),
    )  # fmt: skip
    await post(world, f"First: {TEXT}")
    await drain(worker)
    x.expire_access_tokens()
    for i in range(3):
        await post(world, f"Later {i}: {TEXT}")
    await drain(worker)
    assert sorted(p.text.split(":")[0] for p in x.state.live()) == [
        "First", "Later 0", "Later 1", "Later 2"
    ]  # fmt: skip
    assert len(x.state.posts) == 4
    assert x.refreshed == 1
    account = await ChannelAccount.get(kind="x", removed_at=None)
    stored = world["box"].open(account.credentials)
    assert (
        stored["refresh_token"] in x.refresh_tokens
        and stored["refresh_token"] != issued["refresh_token"]
    )
