"""Database configuration, connection lifecycle and migrations (Tortoise's built-in ones)."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import asynccontextmanager, contextmanager
from typing import Any, Protocol

from tortoise.backends.base.config_generator import expand_db_url
from tortoise.context import TortoiseContext, _current_context
from tortoise.migrations.executor import MigrationExecutor, MigrationTarget
from tortoise.migrations.graph import MigrationKey

from beat.settings import Settings

log = logging.getLogger(__name__)

MODELS_MODULE = "beat.models"
MIGRATIONS_MODULE = "beat.migrations"


def connection_config(settings: Settings, *, foreign_keys: bool = True) -> dict[str, Any]:
    """Expand the database URL into Tortoise's connection dict, with our SQLite pragmas."""
    config = expand_db_url(settings.database_url)
    if config["engine"] == "tortoise.backends.sqlite":
        credentials = config["credentials"]
        # Several processes may share one SQLite file: wait for the write lock, don't fail.
        credentials.setdefault("busy_timeout", 5000)
        # Table rebuilds during migrations must not cascade-delete child rows.
        credentials["foreign_keys"] = "ON" if foreign_keys else "OFF"
    return config


def tortoise_config(settings: Settings, *, foreign_keys: bool = True) -> dict[str, Any]:
    return {
        "connections": {"default": connection_config(settings, foreign_keys=foreign_keys)},
        "apps": {
            "models": {
                "models": [MODELS_MODULE],
                "default_connection": "default",
                "migrations": MIGRATIONS_MODULE,
            }
        },
        "use_tz": True,
        "timezone": "UTC",
    }


def _ensure_sqlite_dir(settings: Settings) -> None:
    if settings.is_sqlite:
        path = connection_config(settings)["credentials"]["file_path"]
        if path != ":memory:":
            from pathlib import Path

            Path(path).parent.mkdir(parents=True, exist_ok=True)


@contextmanager
def current(ctx: TortoiseContext) -> Iterator[None]:
    """Make `ctx` the Tortoise context of the running task, for the block.

    `with ctx:` keeps its reset token on the shared context object, so two overlapping
    requests would reset each other's; here each task keeps its own token.
    """
    token = _current_context.set(ctx)
    try:
        yield
    finally:
        _current_context.reset(token)


async def open_db(settings: Settings, *, create_db: bool = False) -> TortoiseContext:
    """Initialise a Tortoise context for this process (not entered: callers enter it per task)."""
    _ensure_sqlite_dir(settings)
    ctx = TortoiseContext()
    with current(ctx):  # models resolve their connection through the current context, even in init
        await ctx.init(config=tortoise_config(settings), _create_db=create_db)
    return ctx


@asynccontextmanager
async def db_session(settings: Settings) -> AsyncIterator[TortoiseContext]:
    """Open the database for the duration of a block and make it current (CLI, scripts)."""
    ctx = await open_db(settings)
    try:
        with current(ctx):
            yield ctx
    finally:
        await ctx.close_connections()


def _executor(ctx: TortoiseContext, config: dict[str, Any]) -> MigrationExecutor:
    return MigrationExecutor(ctx.db(), config["apps"])


async def pending_migrations(settings: Settings) -> list[str]:
    """Names of migrations not yet applied to the configured database."""
    config = tortoise_config(settings)
    _ensure_sqlite_dir(settings)
    async with TortoiseContext() as ctx:
        await ctx.init(config=config)
        executor = _executor(ctx, config)
        plan = await executor.plan()
        return [step.migration.name for step in plan if not step.backward]


async def migrate(
    settings: Settings,
    *,
    progress: Callable[[str, str, str], object] | None = None,
    target: str | None = None,
) -> list[str]:
    """Apply pending migrations (up to `target`, a migration name); returns the names applied.

    Run once, before the workers start: migrations take no lock.
    """
    config = tortoise_config(settings, foreign_keys=False)
    _ensure_sqlite_dir(settings)
    async with TortoiseContext() as ctx:
        await ctx.init(config=config)
        executor = _executor(ctx, config)
        targets = [MigrationTarget("models", target)] if target else None
        plan = await executor.plan(targets)
        names = [step.migration.name for step in plan if not step.backward]
        await executor.migrate(targets, progress=progress)
        for name in names:
            log.info("migration applied", extra={"migration": name})
        return names


async def applied_migrations(ctx: TortoiseContext) -> list[MigrationKey]:
    config = {"apps": {"models": {"migrations": MIGRATIONS_MODULE, "models": [MODELS_MODULE]}}}
    executor = _executor(ctx, config)
    return list(await executor.recorder.applied_migrations())


OUTBOX_CHANNEL = "beat_outbox"


class Listener(Protocol):
    async def close(self) -> None: ...


async def listen(settings: Settings, channel: str, signal: Callable[[], None]) -> Listener | None:
    """On PostgreSQL, call `signal` whenever another process NOTIFYs `channel`; None elsewhere.

    A connection of its own, outside the pool: LISTEN lives as long as the connection.
    """
    if settings.is_sqlite:
        return None
    import asyncpg

    creds = connection_config(settings)["credentials"]
    try:
        conn = await asyncpg.connect(
            host=creds.get("host"), port=creds.get("port"), user=creds.get("user"),
            password=creds.get("password"), database=creds.get("database"),
        )  # fmt: skip
    except (OSError, asyncpg.PostgresError):
        log.warning("LISTEN unavailable; workers poll instead", exc_info=True)
        return None
    await conn.add_listener(channel, lambda *_: signal())
    listener: Listener = conn
    return listener


async def ping(ctx: TortoiseContext) -> None:
    """Run a trivial query; raises if the database does not answer."""
    await ctx.db().execute_query("SELECT 1")
