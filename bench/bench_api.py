"""Throughput and latency of Beat's hot read routes against a bare aiohttp baseline.

Run: .venv/bin/python bench/bench_api.py [--requests 2000] [--concurrency 20]

Everything runs in one process on one event loop: each app is served on loopback with
AppRunner/TCPSite and driven by an aiohttp ClientSession with bounded concurrency. The client's
own cost is in every figure, so read the ratios to the baseline rather than the absolute numbers.
The database is SQLite in a temp dir with the demo's City of London areas. Request logs are
formatted as in production (JSON, INFO) and written to /dev/null; --no-logs turns them off.
Every run is bounded: a fixed number of requests and a time limit per scenario.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import platform
import statistics
import sys
import tempfile
import time
from collections import Counter
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aiohttp
from aiohttp import web

from beat import accounts, areas, db, logs
from beat.app import create_app
from beat.clock import utcnow
from beat.models import Role
from beat.policeuk.folder import FolderSource
from beat.settings import Settings

REPO = Path(__file__).resolve().parent.parent
DEMO_AREAS = REPO / "beat" / "demo_data" / "policeuk"
FORCE = "city-of-london"
TEAM = "E05009288"
EMAIL = "bench.officer@example.police.uk"
PASSWORD = "correct horse battery staple"  # noqa: S105 - an account in a throwaway database


@dataclass(frozen=True)
class Result:
    name: str
    done: int
    seconds: float
    latencies: list[float]
    unexpected: Counter[str]

    @property
    def errors(self) -> int:
        return sum(self.unexpected.values())

    @property
    def rps(self) -> float:
        return self.done / self.seconds if self.seconds else 0.0

    def percentile(self, p: float) -> float:
        """The p-th percentile latency in milliseconds."""
        if not self.latencies:
            return float("nan")
        if len(self.latencies) == 1:
            return self.latencies[0] * 1000
        return statistics.quantiles(self.latencies, n=100, method="inclusive")[int(p) - 1] * 1000


# A request maker: given the session and the request's number, make one request and
# return its status (200 is the only expected answer).
Request = Callable[[aiohttp.ClientSession, int], Awaitable[int]]


def get(url: str | Callable[[int], str], *, headers: dict[str, str] | None = None) -> Request:
    async def call(session: aiohttp.ClientSession, i: int) -> int:
        target = url(i) if callable(url) else url
        async with session.get(target, headers=headers) as response:
            await response.read()
            return response.status

    return call


def post_json(url: str, body: dict[str, Any]) -> Request:
    async def call(session: aiohttp.ClientSession, i: int) -> int:
        async with session.post(url, json=body) as response:
            await response.read()
            return response.status

    return call


async def drive(
    name: str,
    request: Request,
    *,
    total: int,
    concurrency: int,
    warmup: int,
    time_limit: float,
) -> Result:
    """Send `warmup` then `total` requests, `concurrency` at a time, stopping at `time_limit`."""
    connector = aiohttp.TCPConnector(limit=concurrency)
    async with aiohttp.ClientSession(connector=connector) as session:
        for i in range(warmup):
            await request(session, i)
        latencies: list[float] = []
        unexpected: Counter[str] = Counter()
        next_index = 0
        deadline = time.perf_counter() + time_limit

        async def worker() -> None:
            nonlocal next_index
            while next_index < total and time.perf_counter() < deadline:
                i = next_index
                next_index += 1
                started = time.perf_counter()
                try:
                    outcome = str(await request(session, i))
                except aiohttp.ClientError as exc:
                    outcome = type(exc).__name__
                latencies.append(time.perf_counter() - started)
                if outcome != "200":
                    unexpected[outcome] += 1

        started = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(concurrency)))
        elapsed = time.perf_counter() - started
    return Result(name, len(latencies), elapsed, latencies, unexpected)


@asynccontextmanager
async def serve(app: web.Application) -> AsyncIterator[str]:
    """Serve `app` on a free loopback port; yields its base URL."""
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    host, port = runner.addresses[0][:2]
    try:
        yield f"http://{host}:{port}"
    finally:
        await runner.cleanup()


def baseline_app() -> web.Application:
    async def ping(request: web.Request) -> web.Response:
        return web.json_response({"ok": True})

    app = web.Application()
    app.router.add_get("/ping", ping)
    return app


async def prepare(settings: Settings) -> None:
    """What `beat demo` does, minus the demo accounts: migrate, load areas, add one officer."""
    await db.migrate(settings)
    async with db.db_session(settings):
        await areas.sync_force(FolderSource(DEMO_AREAS), FORCE, now=utcnow())
        await accounts.create_user(
            None,
            email=EMAIL,
            role=Role.OFFICER,
            password=PASSWORD,
            force_id=FORCE,
            team_code=TEAM,
        )


async def located_points(base: str) -> list[tuple[float, float]]:
    """Neighbourhood centres that locate finds (a centre can fall outside a concave ward)."""
    points = []
    async with aiohttp.ClientSession() as session:
        async with session.get(f"{base}/v1/forces/{FORCE}/neighbourhoods") as response:
            response.raise_for_status()
            items = (await response.json())["items"]
        for item in items:
            lat, lng = item["centre"]["lat"], item["centre"]["lng"]
            url = f"{base}/v1/areas/locate?lat={lat}&lng={lng}"
            async with session.get(url) as response:
                if response.status == 200:
                    points.append((lat, lng))
    if not points:
        raise SystemExit("bench: locate found no neighbourhood for any centre")
    return points


async def login_token(base: str) -> str:
    async with (
        aiohttp.ClientSession() as session,
        session.post(
            f"{base}/v1/auth/login", json={"email": EMAIL, "password": PASSWORD}
        ) as response,
    ):
        response.raise_for_status()
        token: str = (await response.json())["access_token"]
        return token


def print_table(results: list[Result], baseline: Result) -> None:
    header = (
        f"{'scenario':<44} {'requests':>8} {'errors':>6} {'req/s':>8} "
        f"{'p50 ms':>7} {'p95 ms':>7} {'rps/base':>8} {'p50/base':>8}"
    )
    print(header)
    print("-" * len(header))
    base_p50 = baseline.percentile(50)
    for r in results:
        print(
            f"{r.name:<44} {r.done:>8} {r.errors:>6} {r.rps:>8.0f} "
            f"{r.percentile(50):>7.2f} {r.percentile(95):>7.2f} "
            f"{r.rps / baseline.rps:>8.2f} {r.percentile(50) / base_p50:>8.1f}"
        )


async def run(args: argparse.Namespace, tmp: Path) -> int:
    settings = Settings(
        data_dir=tmp,
        # Every login in the bench succeeds, but keep the throttle out of the way regardless.
        login_failures_per_account=1_000_000,
        login_failures_per_address=1_000_000,
    )
    setup_started = time.perf_counter()
    await prepare(settings)
    print(f"setup (migrate, sync 25 areas, 1 account): {time.perf_counter() - setup_started:.1f}s")

    load = {
        "total": args.requests,
        "concurrency": args.concurrency,
        "warmup": args.warmup,
        "time_limit": args.time_limit,
    }
    results = []
    async with serve(baseline_app()) as base:
        baseline = await drive("bare aiohttp GET /ping (baseline)", get(f"{base}/ping"), **load)
    results.append(baseline)

    async with serve(create_app(settings)) as base:
        points = await located_points(base)
        token = await login_token(base)

        def locate_url(i: int) -> str:
            lat, lng = points[i % len(points)]
            return f"{base}/v1/areas/locate?lat={lat}&lng={lng}"

        auth = {"Authorization": f"Bearer {token}"}
        results.append(
            await drive(f"GET /v1/areas/locate ({len(points)} points)", get(locate_url), **load)
        )
        results.append(
            await drive("GET /v1/me (JWT + session)", get(f"{base}/v1/me", headers=auth), **load)
        )
        results.append(
            await drive(
                f"GET /v1/forces/{FORCE}/neighbourhoods",
                get(f"{base}/v1/forces/{FORCE}/neighbourhoods"),
                **load,
            )
        )
        login = post_json(f"{base}/v1/auth/login", {"email": EMAIL, "password": PASSWORD})
        login_load = {"total": args.logins, "warmup": 1, "time_limit": args.time_limit}
        logins = [
            await drive("POST /v1/auth/login, one at a time", login, concurrency=1, **login_load),
            await drive("POST /v1/auth/login, 4 at a time", login, concurrency=4, **login_load),
        ]

    print()
    print(
        f"concurrency {args.concurrency}, {args.requests} requests per scenario after "
        f"{args.warmup} warm-up; SQLite; request logs {'off' if args.no_logs else 'on'}"
    )
    print()
    print_table(results, baseline)
    print()
    print(
        f"{'login (argon2id verify dominates)':<44} {'logins':>8} {'errors':>6} {'per s':>8} "
        f"{'p50 ms':>7} {'p95 ms':>7}"
    )
    for r in logins:
        print(
            f"{r.name:<44} {r.done:>8} {r.errors:>6} {r.rps:>8.1f} "
            f"{r.percentile(50):>7.1f} {r.percentile(95):>7.1f}"
        )
    failed = [r for r in [*results, *logins] if r.errors]
    if failed:
        print("\nbench: some requests did not get 200:", file=sys.stderr)
        for r in failed:
            answers = ", ".join(f"{n} x {what}" for what, n in r.unexpected.most_common())
            print(f"  {r.name}: {answers}", file=sys.stderr)
        return 1
    return 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=2000, help="requests per scenario")
    parser.add_argument("--concurrency", type=int, default=20, help="requests in flight")
    parser.add_argument("--warmup", type=int, default=200, help="requests before measuring")
    parser.add_argument("--logins", type=int, default=20, help="logins to time")
    parser.add_argument(
        "--time-limit", type=float, default=60.0, help="seconds at most per scenario"
    )
    parser.add_argument("--no-logs", action="store_true", help="don't format request logs")
    args = parser.parse_args()

    if not args.no_logs:
        logs.configure("INFO")
        handler = logging.getLogger().handlers[0]
        assert isinstance(handler, logging.StreamHandler)
        handler.setStream(open(os.devnull, "w"))  # noqa: SIM115 - lives as long as the process
    print(
        f"Python {platform.python_version()}, aiohttp {aiohttp.__version__}, "
        f"{os.cpu_count()} CPUs, {platform.machine()}"
    )
    with tempfile.TemporaryDirectory(prefix="beat-bench-") as tmp:
        return asyncio.run(run(args, Path(tmp)))


if __name__ == "__main__":
    raise SystemExit(main())
