"""Approve-to-received latency: from comms pressing approve to the post being stored at X.

Run: .venv/bin/python bench/latency_delivery.py [--posts 100] [--split] [--postgres]

Real processes on loopback: `beat serve` (its scheduler and delivery worker in the same
process; with --split, `beat serve --no-scheduler` plus a separate `beat worker`, so the wake
crosses processes: PostgreSQL NOTIFY with --postgres, else the worker's one-second poll) and the
fake X as its own process. For each post an officer sends a risky post (it waits on the desk),
then comms approve it; the latency is from just before the approve request leaves to the
`created_at` the fake X stamps on the stored post (same machine, same clock), read from
GET /_fake/state, which the script polls every 5 ms to know when to go on. Posts go one at a
time, so the figures are latency, not queueing. The baseline is a bare signed POST /2/tweets to
the same fake X from this script: its round trip, and send-to-stored on the same stamp.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import platform
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import aiohttp
from oauthlib.oauth1 import Client as OAuth1Client

REPO = Path(__file__).resolve().parent.parent
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))  # the fake X and the process helpers live under tests/

from tests.e2e.cluster import (  # noqa: E402
    ALDERSGATE,
    DEMO_PASSWORD,
    Processes,
    add_x_account,
    beat,
    beat_env,
    postgres,
    start_beat,
    start_fake_x,
)
from tests.fakes.x import CREDENTIALS  # noqa: E402

RISKY = (
    "Update {n}: a man was arrested on Aldersgate Street and charged with theft; he appears in "
    "court on Monday."
)
WARMUP = 5
POLL = 0.005


def ms(values: list[float], p: float) -> float:
    if len(values) == 1:
        return values[0] * 1000
    return statistics.quantiles(values, n=100, method="inclusive")[int(p) - 1] * 1000


def line(name: str, values: list[float]) -> str:
    return (
        f"{name:<46} n={len(values):<4} p50 {ms(values, 50):7.1f} ms  "
        f"p99 {ms(values, 99):7.1f} ms  max {max(values) * 1000:7.1f} ms"
    )


async def sign_in(http: aiohttp.ClientSession, base: str, email: str) -> dict[str, str]:
    body = {"email": email, "password": DEMO_PASSWORD}
    async with http.post(f"{base}/v1/auth/login", json=body) as r:
        r.raise_for_status()
        return {"Authorization": f"Bearer {(await r.json())['access_token']}"}


async def stored_at(http: aiohttp.ClientSession, x_url: str, mark: str, within: float) -> float:
    """When the fake X stored the live post containing `mark` (its own clock, epoch seconds)."""
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        async with http.get(f"{x_url}/_fake/state") as r:
            state: dict[str, Any] = await r.json()
        for post in state["posts"].values():
            if mark in post["text"] and not post["deleted"]:
                return float(post["created_at"])
        await asyncio.sleep(POLL)
    raise TimeoutError(f"{mark} never reached X within {within}s")


async def one(
    http: aiohttp.ClientSession,
    base: str,
    x_url: str,
    officer: dict[str, str],
    comms: dict[str, str],
    n: int,
) -> tuple[float, float]:
    """(approve to stored at X, approve request's own round trip), in seconds."""
    async with http.post(
        f"{base}/v1/posts",
        json={"text": RISKY.format(n=n), "neighbourhoods": [ALDERSGATE]},
        headers={**officer, "Idempotency-Key": str(uuid.uuid4())},
    ) as r:
        post = await r.json()
        assert post["status"] == "pending-review", post
    sent = time.time()
    started = time.perf_counter()
    async with http.post(f"{base}/v1/posts/{post['id']}/approve", json={}, headers=comms) as r:
        assert r.status == 200, await r.text()
        await r.read()
    answered = time.perf_counter() - started
    received = await stored_at(http, x_url, post["id"], within=15.0)
    return received - sent, answered


async def bare_posts(
    http: aiohttp.ClientSession, x_url: str, count: int
) -> tuple[list[float], list[float]]:
    """Signed POST /2/tweets straight at the fake X: round trips and send-to-stored times."""
    signer = OAuth1Client(
        CREDENTIALS["consumer_key"],
        client_secret=CREDENTIALS["consumer_secret"],
        resource_owner_key=CREDENTIALS["access_token"],
        resource_owner_secret=CREDENTIALS["access_token_secret"],
    )
    url = f"{x_url}/2/tweets"
    trips, stored = [], []
    for i in range(WARMUP + count):
        headers = {"Content-Type": "application/json"}
        _, signed, _ = signer.sign(url, http_method="POST", headers=headers)
        body = {"text": f"Baseline {i} {uuid.uuid4().hex[:8]}: a bare post straight to X."}
        sent = time.time()
        started = time.perf_counter()
        async with http.post(url, json=body, headers=signed) as r:
            assert r.status == 201, await r.text()
            await r.read()
        trip = time.perf_counter() - started
        if i >= WARMUP:
            trips.append(trip)
            stored.append(await stored_at(http, x_url, body["text"], within=5.0) - sent)
    return trips, stored


async def measure(base: str, x_url: str, count: int) -> None:
    async with aiohttp.ClientSession() as http:
        officer = await sign_in(http, base, "officer@demo.beat")
        comms = await sign_in(http, base, "comms@demo.beat")
        for n in range(WARMUP):
            await one(http, base, x_url, officer, comms, -n - 1)
        latencies, answers = [], []
        for n in range(1, count + 1):
            latency, answered = await one(http, base, x_url, officer, comms, n)
            latencies.append(latency)
            answers.append(answered)
        trips, stored = await bare_posts(http, x_url, count)
    print(line("approve -> stored at X (Beat)", latencies))
    print(line("  the approve request's own round trip", answers))
    print(line("bare POST /2/tweets: send -> stored at X", stored))
    print(line("bare POST /2/tweets: round trip (baseline)", trips))
    print(f"Beat adds {ms(latencies, 50) - ms(stored, 50):.1f} ms at p50 over a bare post")


@contextlib.contextmanager
def database(use_postgres: bool) -> Iterator[str]:
    if use_postgres:
        with postgres() as url:
            yield url
    else:
        yield ""


def run(args: argparse.Namespace, tmp: Path, database_url: str) -> None:
    with Processes(tmp) as procs:
        # Beat's own budget keeps one account under 190 posts per 15 minutes; the fake's
        # limit is raised so the baseline's posts do not eat Beat's.
        _, x_url = start_fake_x(procs, tmp / "x-state.json", limits=("create=1000/900",))
        env = beat_env(tmp / "data", database_url, BEAT_X_API_URL=x_url)
        beat(["migrate"], env)
        beat(["demo", "--no-serve"], env)
        add_x_account(env, "City of London X", ALDERSGATE)
        if args.split:
            _, base = start_beat(procs, "serve", "serve", env, extra=("--no-scheduler",))
            start_beat(procs, "worker", "worker", env)
        else:
            _, base = start_beat(procs, "serve", "serve", env)
        kind = "PostgreSQL" if database_url else "SQLite"
        where = "a separate `beat worker`" if args.split else "the serving process"
        print(f"{args.posts} posts, one at a time, {kind}; delivery by {where}")
        asyncio.run(measure(base, x_url, args.posts))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--posts", type=int, default=100, help="at most 175 (X's budget)")
    parser.add_argument("--split", action="store_true", help="deliver from a separate worker")
    parser.add_argument("--postgres", action="store_true", help="PostgreSQL instead of SQLite")
    parser.add_argument("--keep", type=Path, help="work in this new dir and keep it (logs, data)")
    args = parser.parse_args()
    if not 1 <= args.posts <= 180 - WARMUP:
        parser.error("--posts must be 1 to 175: one X account may post 190 times in 15 minutes")
    print(
        f"Python {platform.python_version()}, aiohttp {aiohttp.__version__}, {os.cpu_count()} CPUs"
    )
    with contextlib.ExitStack() as stack:
        if args.keep:
            args.keep.mkdir(parents=True)
            tmp = args.keep.resolve()
        else:
            tmp = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="beat-latency-")))
        run(args, tmp, stack.enter_context(database(args.postgres)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
