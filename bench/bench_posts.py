"""Post creation: throughput against bare aiohttp, and 1,000 retried posts from 100 phones.

Run: .venv/bin/python bench/bench_posts.py [--requests 1000] [--phones 100] [--posts 1000]

Part 1 measures `POST /v1/posts` (a clean post: checks, areas, audit, published at once) against
a bare aiohttp handler that parses the same JSON and answers 201, both served in this process
on loopback and driven with the same concurrency. Part 2 is the issue's proof: phones send posts
concurrently, each resent a random number of times with its Idempotency-Key (some resends at
once, as a double tap; the rest after), and the database must then hold exactly one post and one
audit "created" entry per key. SQLite in a temp dir; accounts use cheap argon2 settings (the
bench measures posting, not password hashing).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import platform
import random
import sys
import tempfile
import time
import uuid
from pathlib import Path

import aiohttp
from aiohttp import web
from bench_api import FORCE, PASSWORD, TEAM, Result, drive, login_token, prepare, serve

from beat import accounts, db, passwords
from beat.app import create_app
from beat.models import AuditEntry, Post, Role
from beat.settings import Settings

BODY = {
    "text": "Patrolling Aldersgate Street this evening after reports of bike thefts. Lock it up!",
    "neighbourhoods": [TEAM],
}


def baseline_app() -> web.Application:
    async def create(request: web.Request) -> web.Response:
        body = await request.json()
        return web.json_response({"id": str(uuid.uuid4()), "text": body["text"]}, status=201)

    app = web.Application()
    app.router.add_post("/posts", create)
    return app


def poster(url: str, headers: dict[str, str] | None = None):  # type: ignore[no-untyped-def]
    async def call(session: aiohttp.ClientSession, i: int) -> int:
        sent = {**(headers or {}), "Idempotency-Key": str(uuid.uuid4())}
        async with session.post(url, json=BODY, headers=sent) as response:
            await response.read()
            return 200 if response.status == 201 else response.status

    return call


async def throughput(args: argparse.Namespace, settings: Settings) -> tuple[Result, Result]:
    load = {
        "total": args.requests,
        "concurrency": args.concurrency,
        "warmup": 50,
        "time_limit": 120.0,
    }
    async with serve(baseline_app()) as base:
        baseline = await drive(
            "bare aiohttp POST /posts (baseline)", poster(f"{base}/posts"), **load
        )
    async with serve(create_app(settings)) as base:
        auth = {"Authorization": f"Bearer {await login_token(base)}"}
        beat = await drive(
            "POST /v1/posts (clean, published at once)", poster(f"{base}/v1/posts", auth), **load
        )
    return baseline, beat


async def phones(args: argparse.Namespace, settings: Settings) -> int:
    async with db.db_session(settings):
        await Post.all().delete()
        await AuditEntry.all().delete()
        for i in range(args.phones):
            await accounts.create_user(
                None, email=f"phone{i}@example.police.uk", role=Role.OFFICER, password=PASSWORD,
                force_id=FORCE, team_code=TEAM,
            )  # fmt: skip
    rng = random.Random(1125)
    sent = {"200": 0, "201": 0, "other": 0}
    per_phone = args.posts // args.phones
    async with serve(create_app(settings)) as base:
        connector = aiohttp.TCPConnector(limit=args.concurrency)
        async with aiohttp.ClientSession(connector=connector) as session:
            tokens = []
            for i in range(args.phones):
                async with session.post(
                    f"{base}/v1/auth/login",
                    json={"email": f"phone{i}@example.police.uk", "password": PASSWORD},
                ) as response:
                    tokens.append((await response.json())["access_token"])

            async def send(token: str, key: str, n: int, j: int) -> None:
                headers = {"Authorization": f"Bearer {token}", "Idempotency-Key": key}
                body = {**BODY, "text": f"Phone {n}, update {j}: " + BODY["text"]}
                async with session.post(f"{base}/v1/posts", json=body, headers=headers) as response:
                    await response.read()
                    sent[str(response.status) if response.status in (200, 201) else "other"] += 1

            async def phone(n: int, token: str) -> None:
                for j in range(per_phone):
                    key = str(uuid.uuid4())
                    tries = rng.randint(1, 4)
                    at_once = rng.randint(1, tries)
                    await asyncio.gather(*(send(token, key, n, j) for _ in range(at_once)))
                    for _ in range(tries - at_once):
                        await asyncio.sleep(rng.uniform(0, 0.01))
                        await send(token, key, n, j)

            started = time.perf_counter()
            await asyncio.gather(*(phone(n, t) for n, t in enumerate(tokens)))
            elapsed = time.perf_counter() - started
    async with db.db_session(settings):
        posts_made = await Post.all().count()
        created = await AuditEntry.filter(action="created").count()
    expected = per_phone * args.phones
    requests = sum(sent.values())
    print(
        f"{args.phones} phones, {expected} posts, {requests} requests (with resends), "
        f"{elapsed:.1f}s"
    )
    print(
        f"  answers: {sent['201']} x 201 created, {sent['200']} x 200 replay, {sent['other']} other"
    )
    print(f"  posts in the database: {posts_made} (expected {expected})")
    print(f"  audit 'created' entries: {created} (expected {expected})")
    ok = posts_made == created == expected == sent["201"] and sent["other"] == 0
    print("  OK: nothing lost, nothing doubled" if ok else "  FAILED: counts differ")
    return 0 if ok else 1


async def run(args: argparse.Namespace, tmp: Path) -> int:
    settings = Settings(
        data_dir=tmp, background_jobs=False,
        login_failures_per_account=1_000_000, login_failures_per_address=1_000_000,
    )  # fmt: skip
    passwords.use_parameters(time_cost=1, memory_cost=8, parallelism=1)
    await prepare(settings)
    baseline, beat = await throughput(args, settings)
    print(f"\nconcurrency {args.concurrency}, {args.requests} posts per scenario; SQLite")
    for r in (baseline, beat):
        print(
            f"{r.name:<44} {r.done:>6} done {r.errors:>3} errors {r.rps:>8.0f} req/s "
            f"p50 {r.percentile(50):>6.2f} ms  p95 {r.percentile(95):>6.2f} ms  "
            f"ratio {r.rps / baseline.rps:.3f}"
        )
    print()
    status = await phones(args, settings)
    return status or (1 if beat.errors or baseline.errors else 0)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=1000)
    parser.add_argument("--concurrency", type=int, default=20)
    parser.add_argument("--phones", type=int, default=100)
    parser.add_argument("--posts", type=int, default=1000)
    args = parser.parse_args()
    print(
        f"Python {platform.python_version()}, aiohttp {aiohttp.__version__}, {os.cpu_count()} CPUs"
    )
    with tempfile.TemporaryDirectory(prefix="beat-bench-") as tmp:
        return asyncio.run(run(args, Path(tmp)))


if __name__ == "__main__":
    sys.exit(main())
