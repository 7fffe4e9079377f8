"""Three `beat serve` processes on one PostgreSQL: one leader runs each job once per tick, no
post reaches X twice, and when the leader is killed another takes over within seconds.

Real processes on loopback: a PostgreSQL of its own (or a fresh database on the server in
BEAT_TEST_DATABASE_URL), the fake X as a process, and three servers with the scheduler, each
running the jobs every second with a 3 s leader lease. Each process's output stays in the
test's tmp_path (serve0.err, ...) for a failure to be read.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import time
import uuid
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from beat.scheduler.jobs import JOBS
from tests.e2e.cluster import (
    ALDERSGATE,
    DEMO_PASSWORD,
    PG_URL_ENV,
    Proc,
    Processes,
    add_x_account,
    beat,
    beat_env,
    fake_state,
    json_lines,
    live_texts,
    pg_bindir,
    pg_query,
    postgres,
    spawn_beat,
    start_fake_x,
    wait_http,
)

SERVERS = 3
JOB_INTERVAL = 1.0
LEADER_LEASE = 3.0
JOB_NAMES = {job.name for job in JOBS}

pytestmark = pytest.mark.skipif(
    not os.environ.get(PG_URL_ENV) and pg_bindir() is None,
    reason="needs PostgreSQL: server binaries or BEAT_TEST_DATABASE_URL",
)


@dataclass
class Cluster:
    database_url: str
    x_url: str
    servers: dict[str, tuple[Proc, str]]  # owner pid -> (process, base URL)

    def runs(self) -> list[dict[str, Any]]:
        """Every `job ran` record the servers have logged (only a leader logs one)."""
        return [
            record
            for proc, _ in self.servers.values()
            for record in json_lines(proc.stderr)
            if record.get("message") == "job ran"
        ]

    async def leader(self) -> str:
        rows = await pg_query(
            self.database_url, "SELECT owner FROM job_lease WHERE name = $1", "scheduler"
        )
        return str(rows[0]["owner"]) if rows else ""


def pid_of(owner: str) -> int:
    """Owners are host:pid:random."""
    return int(owner.split(":")[-2])


@pytest.fixture
def cluster(tmp_path: Path) -> Iterator[Cluster]:
    with contextlib.ExitStack() as stack:
        url = stack.enter_context(postgres())
        procs = stack.enter_context(Processes(tmp_path))
        _, x_url = start_fake_x(procs, tmp_path / "x-state.json")
        env = beat_env(
            tmp_path / "data",
            url,
            BEAT_X_API_URL=x_url,
            BEAT_JOB_INTERVAL_SECONDS=str(JOB_INTERVAL),
            BEAT_SCHEDULER_LEASE_SECONDS=str(LEADER_LEASE),
        )
        # Migrations take no lock: run them once, before any server starts.
        beat(["migrate"], env)
        beat(["demo", "--no-serve"], env)
        add_x_account(env, "City of London X", ALDERSGATE)
        spawned = [
            spawn_beat(procs, f"serve{i}", "serve", env, extra=("--no-migrate",))
            for i in range(SERVERS)
        ]
        for proc, base in spawned:
            wait_http(proc, f"{base}/healthz")
        yield Cluster(url, x_url, {str(proc.pid): (proc, base) for proc, base in spawned})


async def sign_in(http: aiohttp.ClientSession, base: str, email: str) -> dict[str, str]:
    body = {"email": email, "password": DEMO_PASSWORD}
    async with http.post(f"{base}/v1/auth/login", json=body) as r:
        assert r.status == 200, await r.text()
        return {"Authorization": f"Bearer {(await r.json())['access_token']}"}


async def create_posts(
    http: aiohttp.ClientSession, base: str, officer: dict[str, str], first: int, count: int
) -> list[str]:
    ids = []
    for n in range(first, first + count):
        text = (
            f"Cluster update {n}: patrols on Aldersgate Street continue this week. Lock your bike."
        )
        async with http.post(
            f"{base}/v1/posts",
            json={"text": text, "neighbourhoods": [ALDERSGATE]},
            headers={**officer, "Idempotency-Key": str(uuid.uuid4())},
        ) as r:
            body = await r.json()
            assert r.status == 201 and body["status"] == "published", body
            ids.append(body["id"])
    return ids


async def until(check, *, seconds: float, what: str, every: float = 0.1):  # type: ignore[no-untyped-def]
    """Poll `check` (a coroutine function) until it returns something truthy, within `seconds`."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        found = await check()
        if found:
            return found
        await asyncio.sleep(every)
    raise AssertionError(f"{what}: not within {seconds}s")


async def delivered_exactly_once(cluster: Cluster, post_ids: list[str]) -> None:
    async def all_sent() -> bool:
        rows = await pg_query(
            cluster.database_url, "SELECT status, count(*) AS n FROM delivery GROUP BY status"
        )
        return {r["status"]: r["n"] for r in rows} == {"sent": len(post_ids)}

    await until(all_sent, seconds=30, what=f"{len(post_ids)} deliveries sent")
    state = fake_state(cluster.x_url)
    per_post = Counter(pid for text in live_texts(state) for pid in post_ids if pid in text)
    assert per_post == Counter(post_ids), "every post on X exactly once"
    assert len(state["posts"]) == len(post_ids), "nothing else on X, nothing deleted"
    # Not one resend, not even one X's duplicate check would have caught.
    assert state["requests"]["create"] == len(post_ids)
    attempts = await pg_query(
        cluster.database_url, "SELECT outcome, count(*) AS n FROM delivery_attempt GROUP BY outcome"
    )
    assert {r["outcome"]: r["n"] for r in attempts} == {"sent": len(post_ids)}


def spans(runs: list[dict[str, Any]]) -> dict[str, tuple[int, float]]:
    """Per job: how many runs, over how many seconds (log times are whole seconds)."""
    by_job: dict[str, list[float]] = {}
    for run in runs:
        stamp = time.mktime(time.strptime(run["time"], "%Y-%m-%dT%H:%M:%S%z"))
        by_job.setdefault(run["job"], []).append(stamp)
    return {job: (len(times), max(times) - min(times)) for job, times in by_job.items()}


def assert_once_per_tick(runs: list[dict[str, Any]], owner: str) -> None:
    assert {r["owner"] for r in runs} == {owner}, "only the leader runs jobs"
    assert {r["job"] for r in runs} == JOB_NAMES, "every job runs"
    for job, (count, seconds) in spans(runs).items():
        # Three processes each running the job would log about three times this.
        assert count <= seconds / JOB_INTERVAL + 2, (job, count, seconds)


async def test_three_servers_share_one_leader_and_deliver_each_post_once(cluster: Cluster):
    started = time.monotonic()
    bases = [base for _, base in cluster.servers.values()]
    async with aiohttp.ClientSession() as http:
        officer = await sign_in(http, bases[0], "officer@demo.beat")
        first = await create_posts(http, bases[0], officer, 1, 20)
        await delivered_exactly_once(cluster, first)
        workers = await pg_query(
            cluster.database_url, "SELECT DISTINCT worker FROM delivery_attempt"
        )

        owner = await cluster.leader()
        assert owner and str(pid_of(owner)) in cluster.servers

        async def ticks(who: str, n: int) -> list[dict[str, Any]] | None:
            mine = [r for r in cluster.runs() if r["owner"] == who]
            counts = Counter(r["job"] for r in mine)
            return mine if all(counts[j] >= n for j in JOB_NAMES) else None

        await until(lambda: ticks(owner, 5), seconds=15, what="five ticks of every job", every=0.25)
        assert_once_per_tick(cluster.runs(), owner)

        leader_proc, _ = cluster.servers[str(pid_of(owner))]
        leader_proc.kill()
        killed_at = time.monotonic()

        async def new_leader() -> str:
            now = await cluster.leader()
            return now if now and now != owner else ""

        successor = await until(
            new_leader, seconds=3 * LEADER_LEASE, what="a new leader", every=0.05
        )
        takeover = time.monotonic() - killed_at
        assert takeover < LEADER_LEASE + 3
        assert str(pid_of(successor)) in cluster.servers and pid_of(successor) != leader_proc.pid

        await until(
            lambda: ticks(successor, 3), seconds=10, what="jobs under the new leader", every=0.25
        )
        after = [r for r in cluster.runs() if r["owner"] != owner]
        assert_once_per_tick(after, successor)

        survivor = next(b for p, b in cluster.servers.values() if p.alive())
        more = await create_posts(http, survivor, officer, 21, 5)
        await delivered_exactly_once(cluster, first + more)

    took = time.monotonic() - started
    print(
        json.dumps(
            {
                "takeover_seconds": round(takeover, 2),
                "delivering_workers": len(workers),
                "test_seconds": round(took, 1),
            }
        )
    )
