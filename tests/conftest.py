"""Shared fixtures: a real database per test (SQLite file, or PostgreSQL when configured)."""

from __future__ import annotations

import asyncio
import os
import shutil
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient
from tortoise.context import TortoiseContext

from beat import db as beat_db
from beat import passwords
from beat.api.keys import DB
from beat.app import create_app
from beat.settings import Settings

PG_URL = os.environ.get("BEAT_TEST_DATABASE_URL", "")
REPO = Path(__file__).resolve().parent.parent
DEMO_AREAS = REPO / "beat" / "demo_data" / "policeuk"


class FakeClock:
    """A clock the test moves by hand."""

    def __init__(self, start: datetime | None = None) -> None:
        self.now = start or datetime.now(UTC).replace(microsecond=0)

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> None:
        self.now += timedelta(**delta)


@pytest.fixture(scope="session", autouse=True)
def cheap_password_hashing() -> None:
    """argon2id at its cheapest: the same code path, without 150 ms per hash in every test."""
    passwords.use_parameters(time_cost=1, memory_cost=8, parallelism=1)


@pytest.fixture(scope="session")
def keys_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("keys")


@pytest.fixture(scope="session")
def migrated_template(tmp_path_factory: pytest.TempPathFactory) -> Path | None:
    """Migrate once per run: a SQLite file copied per test, or the PostgreSQL test database."""
    if PG_URL:
        asyncio.run(_reset_postgres(PG_URL))
        asyncio.run(beat_db.migrate(Settings(database_url=PG_URL)))
        return None
    path = tmp_path_factory.mktemp("template") / "template.sqlite3"
    asyncio.run(beat_db.migrate(Settings(database_url=f"sqlite://{path}")))
    return path


async def _reset_postgres(url: str) -> None:
    async with TortoiseContext() as ctx:
        await ctx.init(config=beat_db.tortoise_config(Settings(database_url=url)))
        conn = ctx.db()
        await conn.execute_script("DROP SCHEMA IF EXISTS public CASCADE; CREATE SCHEMA public;")


async def _truncate_postgres(ctx: TortoiseContext) -> None:
    conn = ctx.db()
    _, rows = await conn.execute_query(
        "SELECT tablename FROM pg_tables WHERE schemaname = 'public' AND tablename <> 'tortoise_migrations'"
    )
    names = ", ".join(f'"{r["tablename"]}"' for r in rows)
    if names:
        await conn.execute_script(f"TRUNCATE {names} RESTART IDENTITY CASCADE")


@pytest.fixture
def database_url(tmp_path: Path, migrated_template: Path | None) -> str:
    if PG_URL:
        return PG_URL
    assert migrated_template is not None
    target = tmp_path / "beat.sqlite3"
    shutil.copyfile(migrated_template, target)
    return f"sqlite://{target}"


@pytest.fixture
def settings(tmp_path: Path, database_url: str, keys_dir: Path) -> Settings:
    # The tests run the post jobs themselves, at the times they choose.
    return Settings(
        data_dir=tmp_path, database_url=database_url, keys_dir=keys_dir, background_jobs=False
    )


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
async def db(settings: Settings) -> AsyncIterator[TortoiseContext]:
    """A clean database, current for the test's own queries."""
    ctx = await beat_db.open_db(settings)
    with beat_db.current(ctx):
        if PG_URL:
            await _truncate_postgres(ctx)
        yield ctx
    await ctx.close_connections()


@pytest.fixture
def app(settings: Settings, clock: FakeClock) -> web.Application:
    return create_app(settings, clock=clock)


@pytest.fixture
async def client(aiohttp_client, app: web.Application, db: TortoiseContext) -> TestClient:  # type: ignore[no-untyped-def]
    """The app over real HTTP on loopback; the test's `db` context stays current for helpers."""
    started: TestClient = await aiohttp_client(app)
    assert isinstance(app[DB], TortoiseContext)
    return started


@pytest.fixture
def demo_areas() -> Path:
    return DEMO_AREAS


def pytest_report_header() -> Iterator[str]:
    yield f"beat database: {'PostgreSQL ' + PG_URL.rsplit('@', 1)[-1] if PG_URL else 'SQLite (file per test)'}"
