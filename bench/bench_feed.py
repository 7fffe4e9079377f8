"""The area feed against a bare aiohttp JSON handler, and its p99 with 10 vs 100,000 posts.

Run: .venv/bin/python bench/bench_feed.py [--requests 3000] [--concurrency 64] [--posts 100000]
     [--database-url postgres://...]

Part 1: a bare aiohttp handler answering a small JSON document, and GET
/v1/areas/{force}/{area}/feed, each at 64 connections, served in this process on loopback
(bench_api's helpers). The feed's first page is what most readers ask for, so it is measured as
served: from the page cache after one database query for the feed version. It is also measured
with the page cache off (every request builds its page: four queries for the crime cards,
priorities and events, one for the posts' positions, three to load the page's posts).

Part 2: one area holds 10 published posts and another 100,000 (bulk-inserted straight into the
tables), both cards and the demo's nine months of crime data; the page cache is off so every
request runs the feed's queries. Printed: p99 for each area's first page and for a page deep in
the 100,000, and the query plan of the posts query. The posts query reads `post_area`, which
carries each public post's publication time, through its (neighbourhood_id, published_at,
post_id) index: indexes on `post` and `post_area` as they were (time on one, areas on the other)
left one of the two areas walking the other's posts (measured: p99 1.5 s vs 1.8 s).

SQLite in a temp dir unless --database-url names an empty PostgreSQL database (it is migrated
and filled). The client runs in the same process: read the ratios, not the absolute numbers.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import platform
import sys
import tempfile
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import aiohttp
from aiohttp import web
from bench_api import EMAIL, FORCE, TEAM, Result, drive, get, prepare, serve
from tortoise import connections

from beat import crimes, db, feed, feed_versions
from beat.api.feed_routes import FEED_CACHE
from beat.app import create_app
from beat.feed import PageCache
from beat.models import Neighbourhood, User
from beat.post_states import PostStatus
from beat.settings import Settings

REPO = Path(__file__).resolve().parent.parent
CITY_CRIMES = REPO / "beat" / "demo_data" / "police-uk" / "city-of-london"
SMALL = TEAM  # Aldersgate: 10 posts
BIG = "E05009292"  # Bishopsgate: the many posts
TEXT = "Patrolling {street} this evening after reports of bike thefts. Lock it up! ({n})"


# Indexes on today's tables that one might try first (they do not suffice; see above).
def baseline_app() -> web.Application:
    """A bare handler answering a small JSON document like a short feed page."""
    body = {"items": [{"type": "post", "id": f"post:{uuid.uuid4()}", "text": "x" * 120}] * 5}

    async def page(request: web.Request) -> web.Response:
        return web.json_response(body)

    app = web.Application()
    app.router.add_get("/feed", page)
    return app


def feed_app(settings: Settings, *, cached: bool) -> web.Application:
    app = create_app(settings)
    if not cached:
        app[FEED_CACHE] = PageCache(size=0)  # every page made afresh
    return app


def _placeholders(settings: Settings, n: int) -> str:
    if settings.is_sqlite:
        return ", ".join("?" * n)
    return ", ".join(f"${i}" for i in range(1, n + 1))


async def seed_posts(settings: Settings, area_code: str, count: int, newest: datetime) -> float:
    """`count` published posts tagged to one area, bulk-inserted; returns the seconds taken."""
    started = time.perf_counter()
    area = await Neighbourhood.get(force_id=FORCE, code=area_code)
    author = await User.get(email=EMAIL)
    conn = connections.get("default")
    post_columns = (
        "id", "kind", "status", "version", "text", "location_label", "risks", "decision",
        "decision_reason", "decision_note", "request_digest", "created_at", "updated_at",
        "published_at", "author_id", "force_id",
    )  # fmt: skip
    post_sql = (
        f"INSERT INTO post ({', '.join(post_columns)}) "  # noqa: S608 - constants only
        f"VALUES ({_placeholders(settings, len(post_columns))})"
    )
    marks = _placeholders(settings, 3)
    area_sql = f"INSERT INTO post_area (neighbourhood_id, post_id, published_at) VALUES ({marks})"  # noqa: S608
    batch = 10_000
    for start in range(0, count, batch):
        posts: list[tuple[Any, ...]] = []
        links: list[tuple[Any, ...]] = []
        for n in range(start, min(count, start + batch)):
            post_id = uuid.uuid4()
            key: Any = str(post_id) if settings.is_sqlite else post_id
            when = newest - timedelta(seconds=37 * n + 1)
            posts.append(
                (key, "update", PostStatus.PUBLISHED.value, 1,
                 TEXT.format(street="Bishopsgate", n=n), "", "[]", "", "", "", "", when, when,
                 when, author.id, FORCE)
            )  # fmt: skip
            links.append((area.id, key, when))
        async with conn._in_transaction() as tx:
            await tx.execute_many(post_sql, posts)
            await tx.execute_many(area_sql, links)
    if settings.is_sqlite:
        await conn.execute_script("ANALYZE")
    else:
        await conn.execute_script("ANALYZE post; ANALYZE post_area")
    await feed_versions.bump([area.id], newest)
    return time.perf_counter() - started


async def plan(settings: Settings, area_code: str) -> list[str]:
    """The database's plan for the feed's posts query on one area."""
    found = await feed.area(FORCE, area_code)
    query = feed.posts_query(found.ids, None, 21)
    query.sql()  # builds the query
    sql, params = query.query.get_parameterized_sql()
    conn = connections.get("default")
    if settings.is_sqlite:
        _, rows = await conn.execute_query(f"EXPLAIN QUERY PLAN {sql}", params)
        return [str(r["detail"]) for r in rows]
    _, rows = await conn.execute_query(f"EXPLAIN ANALYZE {sql}", params)
    return [str(next(iter(dict(r).values()))) for r in rows]


async def deep_cursor(base: str, area_code: str, depth: int) -> str:
    """A cursor `depth` items into an area's feed (paging there, 50 at a time)."""
    cursor = ""
    async with aiohttp.ClientSession() as session:
        for _ in range(depth // 50):
            params = {"limit": "50", **({"cursor": cursor} if cursor else {})}
            url = f"{base}/v1/areas/{FORCE}/{area_code}/feed"
            async with session.get(url, params=params) as response:
                response.raise_for_status()
                cursor = (await response.json())["next_cursor"]
    return cursor


def row(r: Result, base: Result | None = None) -> str:
    ratio = (
        f"{r.rps / base.rps:>9.2f} {r.percentile(99) / base.percentile(99):>9.1f}" if base else ""
    )
    return (
        f"{r.name:<52} {r.done:>7} {r.errors:>6} {r.rps:>8.0f} {r.percentile(50):>8.2f} "
        f"{r.percentile(99):>8.2f} {ratio}"
    )


async def run(args: argparse.Namespace, tmp: Path) -> int:
    settings = Settings(
        data_dir=tmp,
        database_url=args.database_url or f"sqlite://{tmp / 'bench.sqlite3'}",
        login_failures_per_account=1_000_000,
        login_failures_per_address=1_000_000,
        background_jobs=False,
    )
    started = time.perf_counter()
    await prepare(settings)
    now = datetime.now(UTC)
    async with db.db_session(settings):
        await crimes.import_paths([CITY_CRIMES], now=now - timedelta(days=30))
        small = await seed_posts(settings, SMALL, 10, now)
        big = await seed_posts(settings, BIG, args.posts, now)
        plans = {code: await plan(settings, code) for code in (SMALL, BIG)}
    print(
        f"setup {time.perf_counter() - started:.1f}s (migrate, 25 areas, 9 months of crime data; "
        f"10 posts in {small:.1f}s, {args.posts:,} posts in {big:.1f}s)"
    )
    load = {
        "total": args.requests,
        "concurrency": args.concurrency,
        "warmup": args.warmup,
        "time_limit": args.time_limit,
    }
    async with serve(baseline_app()) as base:
        baseline = await drive("bare aiohttp JSON handler (baseline)", get(f"{base}/feed"), **load)
    path = f"/v1/areas/{FORCE}/{{}}/feed"
    async with serve(feed_app(settings, cached=True)) as base:
        cached = await drive(
            "area feed, first page (as served: page cache)", get(base + path.format(SMALL)), **load
        )
    async with serve(feed_app(settings, cached=False)) as base:
        fresh_small = await drive(
            "area feed, 10 posts, page cache off", get(base + path.format(SMALL)), **load
        )
        fresh_big = await drive(
            f"area feed, {args.posts:,} posts, page cache off",
            get(base + path.format(BIG)),
            **load,
        )
        cursor = await deep_cursor(base, BIG, min(args.posts // 2, 5000))
        deep = await drive(
            f"area feed, {args.posts:,} posts, page 100 deep",
            get(f"{base}{path.format(BIG)}?cursor={cursor}"),
            **load,
        )

    print(
        f"\n{args.concurrency} connections, {args.requests} requests per scenario after "
        f"{args.warmup} warm-up; {'SQLite' if settings.is_sqlite else 'PostgreSQL'}\n"
    )
    header = (
        f"{'scenario':<52} {'done':>7} {'errors':>6} {'req/s':>8} {'p50 ms':>8} {'p99 ms':>8} "
        f"{'rps/base':>9} {'p99/base':>9}"
    )
    print(header)
    print("-" * len(header))
    print(row(baseline))
    for r in (cached, fresh_small, fresh_big, deep):
        print(row(r, baseline))
    print(
        f"\nfeed p99, {args.posts:,} posts vs 10 posts in the area (page cache off): "
        f"{fresh_big.percentile(99):.2f} ms vs {fresh_small.percentile(99):.2f} ms "
        f"= {fresh_big.percentile(99) / fresh_small.percentile(99):.2f}x"
    )
    for code, lines in plans.items():
        print(f"\nposts query plan, {code} ({'10' if code == SMALL else f'{args.posts:,}'} posts):")
        for line in lines:
            print(f"  {line}")
    failed = [r for r in (baseline, cached, fresh_small, fresh_big, deep) if r.errors]
    for r in failed:
        print(f"bench: {r.name}: {dict(r.unexpected)}", file=sys.stderr)
    return 1 if failed else 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=3000, help="requests per scenario")
    parser.add_argument("--concurrency", type=int, default=64, help="connections")
    parser.add_argument("--warmup", type=int, default=200, help="requests before measuring")
    parser.add_argument("--posts", type=int, default=100_000, help="posts in the big area")
    parser.add_argument("--time-limit", type=float, default=60.0, help="seconds per scenario")
    parser.add_argument("--database-url", default="", help="an empty PostgreSQL database")
    args = parser.parse_args()
    logging.disable(logging.INFO)  # request logs are not what is measured here
    print(
        f"Python {platform.python_version()}, aiohttp {aiohttp.__version__}, "
        f"{os.cpu_count()} CPUs, {platform.machine()}"
    )
    with tempfile.TemporaryDirectory(prefix="beat-bench-feed-") as tmp:
        return asyncio.run(run(args, Path(tmp)))


if __name__ == "__main__":
    raise SystemExit(main())
