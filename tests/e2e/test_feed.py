"""Two `beat serve` processes on one database: a post published through one is in the other's
feed at once (its cached page and ETag retired), and the Atom feed reads cleanly.

Real processes on loopback over the demo's data (areas, accounts, posts and the nine City of
London months of crime): SQLite shared by both, or a fresh PostgreSQL database when
BEAT_TEST_DATABASE_URL names a server.
"""

from __future__ import annotations

import contextlib
import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import aiohttp
import feedparser
import pytest

from tests.e2e.cluster import (
    ALDERSGATE,
    DEMO_FORCE,
    DEMO_PASSWORD,
    PG_URL_ENV,
    Processes,
    beat,
    beat_env,
    database_on,
    spawn_beat,
    wait_http,
)

FEED = f"/v1/areas/{DEMO_FORCE}/{ALDERSGATE}/feed"
TEXT = "Two servers, one feed: patrols on Aldersgate Street continue all week. Lock your bike."


@pytest.fixture
def servers(tmp_path: Path) -> Iterator[tuple[str, str]]:
    with contextlib.ExitStack() as stack:
        configured = os.environ.get(PG_URL_ENV, "")
        url = stack.enter_context(database_on(configured)) if configured else ""
        procs = stack.enter_context(Processes(tmp_path))
        env = beat_env(tmp_path / "data", url)
        beat(["migrate"], env)
        beat(["demo", "--no-serve"], env)
        spawned = [
            spawn_beat(procs, f"serve{i}", "serve", env, extra=("--no-migrate", "--no-scheduler"))
            for i in range(2)
        ]
        for proc, base in spawned:
            wait_http(proc, f"{base}/healthz")
        yield spawned[0][1], spawned[1][1]


async def test_a_publish_through_one_server_refreshes_the_others_feed(servers):
    one, two = servers
    async with aiohttp.ClientSession() as http:
        async with http.get(f"{two}{FEED}") as r:
            assert r.status == 200
            before = await r.json()
            tag = r.headers["ETag"]
        assert any(i["type"] == "crime_stats" for i in before["items"])
        async with http.get(f"{two}{FEED}", headers={"If-None-Match": tag}) as r:
            assert r.status == 304

        login = {"email": "officer@demo.beat", "password": DEMO_PASSWORD}
        async with http.post(f"{one}/v1/auth/login", json=login) as r:
            assert r.status == 200, await r.text()
            token = (await r.json())["access_token"]
        async with http.post(
            f"{one}/v1/posts",
            json={"text": TEXT, "neighbourhoods": [ALDERSGATE]},
            headers={"Authorization": f"Bearer {token}", "Idempotency-Key": str(uuid.uuid4())},
        ) as r:
            created = await r.json()
            assert r.status == 201 and created["status"] == "published", created

        async with http.get(f"{two}{FEED}", headers={"If-None-Match": tag}) as r:
            assert r.status == 200
            after = await r.json()
            assert r.headers["ETag"] != tag
        assert after["items"][0]["id"] == f"post:{created['id']}"

        async with http.get(f"{two}/areas/{DEMO_FORCE}/{ALDERSGATE}/feed.atom") as r:
            assert r.status == 200
            assert r.content_type == "application/atom+xml"
            document = await r.read()
    parsed = feedparser.parse(document)
    assert parsed.bozo == 0, parsed.get("bozo_exception")
    assert parsed.version == "atom10"
    assert parsed.entries[0].id == f"urn:uuid:{created['id']}"
    assert any(e.title.startswith("Crime and anti-social behaviour") for e in parsed.entries)
