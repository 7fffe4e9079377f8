"""Approvals wake the delivery worker at once: in-process directly, across processes by NOTIFY."""

from __future__ import annotations

import asyncio
import dataclasses

from beat import db as beat_db
from tests.conftest import PG_URL


async def test_a_notify_from_another_connection_wakes_the_listener(db, settings):
    woken = asyncio.Event()
    listener = await beat_db.listen(settings, beat_db.OUTBOX_CHANNEL, woken.set)
    if not PG_URL:
        # SQLite has no NOTIFY: workers there rely on the in-process signal and a 1 s poll.
        assert listener is None
        return
    assert listener is not None
    try:
        await db.db().execute_script(f"NOTIFY {beat_db.OUTBOX_CHANNEL}")
        await asyncio.wait_for(woken.wait(), timeout=5)
    finally:
        await listener.close()


async def test_an_approval_over_http_wakes_this_processs_worker(
    aiohttp_client, aiohttp_server, settings, db, demo_areas
):
    """The worker polls only once a minute here: a prompt delivery can only come from the wake."""
    from beat import channel_accounts
    from beat.app import create_app
    from beat.clock import utcnow
    from beat.credentials import CredentialBox
    from tests.fakes.x import CREDENTIALS, FakeX
    from tests.helpers import ALDERSGATE, DEMO_FORCE, bearer, create_areas, create_user

    fake = FakeX()
    server = await aiohttp_server(fake.app)
    live = dataclasses.replace(
        settings, background_jobs=True, delivery_poll_seconds=60.0,
        x_api_url=str(server.make_url("")).rstrip("/"),
    )  # fmt: skip
    await create_areas(demo_areas)
    await create_user("pc@city.police.uk")
    await channel_accounts.add_account(
        None, DEMO_FORCE, kind="x", name="City X", neighbourhoods=[ALDERSGATE], force_wide=False,
        raw_credentials=CREDENTIALS, box=CredentialBox(live.channel_keys_file), now=utcnow(),
    )  # fmt: skip
    client = await aiohttp_client(create_app(live))
    await asyncio.sleep(0.2)  # let the idle worker settle into its long wait
    headers = await bearer(client, "pc@city.police.uk")
    response = await client.post(
        "/v1/posts",
        json={"text": "Beat surgery at the library on Tuesday.", "neighbourhoods": [ALDERSGATE]},
        headers={**headers, "Idempotency-Key": "7d1f5c3e-1b2a-4c5d-8e9f-0a1b2c3d4e5f"},
    )
    assert response.status == 201
    for _ in range(100):  # at most 10 s, far less than the minute-long poll
        if fake.state.live():
            break
        await asyncio.sleep(0.1)
    assert [p.text.split("\n")[0] for p in fake.state.live()] == [
        "Beat surgery at the library on Tuesday."
    ]


async def test_a_stopped_worker_returns_at_once_rather_than_being_cancelled(db, settings):
    """Shutdown stops the worker between rounds: cancelled mid-query, it could leave SQLite locked."""
    from beat.clock import utcnow
    from beat.scheduler.runner import DeliveryWorker

    def no_channels(account):
        raise AssertionError("nothing is due")

    async def no_render(account, post):
        raise AssertionError("nothing is due")

    worker = DeliveryWorker(
        db, settings, worker_id="w1", clock=utcnow, channel_for=no_channels, render=no_render,
        poll_seconds=60.0,
    )  # fmt: skip
    task = asyncio.create_task(worker.run_forever())
    await asyncio.sleep(0.1)  # into its minute-long wait
    worker.stop()
    await asyncio.wait_for(task, timeout=2)
    assert task.done() and not task.cancelled()
    assert await db.db().execute_query_dict("SELECT 1 AS one") == [{"one": 1}]
