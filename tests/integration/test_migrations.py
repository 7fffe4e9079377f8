"""The migrations build the same schema as the models, on SQLite and on PostgreSQL."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from typing import Any

import pytest
from aiohttp import web
from tortoise.context import TortoiseContext

from beat import db as beat_db
from beat.app import create_app
from beat.errors import ConfigError
from beat.models import Force, Neighbourhood, Session, User
from beat.settings import Settings
from tests.conftest import PG_URL

Schema = dict[str, dict[str, Any]]


async def sqlite_schema(ctx: TortoiseContext) -> Schema:
    conn = ctx.db()
    _, tables = await conn.execute_query(
        "SELECT name FROM sqlite_master WHERE type='table' AND name NOT LIKE 'sqlite_%' "
        "AND name <> 'tortoise_migrations'"
    )
    schema: Schema = {}
    for row in tables:
        name = row["name"]
        _, cols = await conn.execute_query(f'PRAGMA table_info("{name}")')
        _, indexes = await conn.execute_query(f'PRAGMA index_list("{name}")')
        index_shapes = set()
        for index in indexes:
            _, parts = await conn.execute_query(f'PRAGMA index_info("{index["name"]}")')
            index_shapes.add((bool(index["unique"]), tuple(p["name"] for p in parts)))
        _, fks = await conn.execute_query(f'PRAGMA foreign_key_list("{name}")')
        schema[name] = {
            "columns": {
                (c["name"], c["type"].upper(), bool(c["notnull"]), bool(c["pk"])) for c in cols
            },
            "indexes": index_shapes,
            "foreign_keys": {(f["from"], f["table"], f["to"], f["on_delete"]) for f in fks},
        }
    return schema


async def postgres_schema(ctx: TortoiseContext) -> Schema:
    conn = ctx.db()
    _, cols = await conn.execute_query(
        "SELECT table_name, column_name, data_type, is_nullable, column_default FROM information_schema.columns "
        "WHERE table_schema = 'public' AND table_name <> 'tortoise_migrations'"
    )
    _, indexes = await conn.execute_query(
        "SELECT tablename, indexdef FROM pg_indexes WHERE schemaname = 'public' "
        "AND tablename <> 'tortoise_migrations'"
    )
    _, fks = await conn.execute_query(
        "SELECT tc.table_name, kcu.column_name, ccu.table_name AS target, rc.delete_rule "
        "FROM information_schema.table_constraints tc "
        "JOIN information_schema.key_column_usage kcu ON tc.constraint_name = kcu.constraint_name "
        "JOIN information_schema.constraint_column_usage ccu ON tc.constraint_name = ccu.constraint_name "
        "JOIN information_schema.referential_constraints rc ON tc.constraint_name = rc.constraint_name "
        "WHERE tc.constraint_type = 'FOREIGN KEY' AND tc.table_schema = 'public'"
    )
    schema: Schema = {}
    for c in cols:
        table = schema.setdefault(
            c["table_name"], {"columns": set(), "indexes": set(), "foreign_keys": set()}
        )
        default = re.sub(r"_[a-z_]+_seq", "_seq", c["column_default"] or "")
        table["columns"].add((c["column_name"], c["data_type"], c["is_nullable"], default))
    for i in indexes:
        # Index names differ by how they were made; their shape is what matters.
        shape = re.sub(r"INDEX \S+ ON", "INDEX ON", i["indexdef"])
        schema[i["tablename"]]["indexes"].add(shape)
    for f in fks:
        schema[f["table_name"]]["foreign_keys"].add(
            (f["column_name"], f["target"], f["delete_rule"])
        )
    return schema


async def introspect(ctx: TortoiseContext) -> Schema:
    return await (postgres_schema(ctx) if PG_URL else sqlite_schema(ctx))


def generated_url(tmp_path) -> str:
    if PG_URL:
        base, _, name = PG_URL.rpartition("/")
        return f"{base}/{name}_generated"
    return f"sqlite://{tmp_path / 'generated.sqlite3'}"


async def _drop_generated(db: TortoiseContext, url: str) -> None:
    name = url.rpartition("/")[2]
    await db.db().execute_script(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture
async def generated_schema(tmp_path, db) -> AsyncIterator[Schema]:
    """The schema Tortoise generates straight from the models, in a database of its own."""
    url = generated_url(tmp_path)
    if PG_URL:
        await _drop_generated(db, url)
    ctx = TortoiseContext()
    try:
        with beat_db.current(ctx):
            await ctx.init(
                config=beat_db.tortoise_config(Settings(database_url=url)), _create_db=bool(PG_URL)
            )
            await ctx.generate_schemas(safe=False)
            schema = await introspect(ctx)
    finally:
        await ctx.close_connections()
    yield schema
    if PG_URL:
        await _drop_generated(db, url)


async def test_migrated_schema_equals_the_models(db, generated_schema):
    migrated = await introspect(db)
    assert sorted(migrated) == sorted(generated_schema)
    for table in generated_schema:
        assert migrated[table] == generated_schema[table], table


async def test_nothing_is_pending_after_migrate_and_rerunning_keeps_rows(db, settings):
    await Force.create(id="kent", name="Kent Police")
    assert await beat_db.pending_migrations(settings) == []
    assert await beat_db.migrate(settings) == []
    assert await Force.filter(id="kent").exists()


async def test_the_app_refuses_to_start_on_an_unmigrated_database(tmp_path, keys_dir):
    empty = f"sqlite://{tmp_path / 'empty.sqlite3'}"
    runner = web.AppRunner(
        create_app(Settings(data_dir=tmp_path, database_url=empty, keys_dir=keys_dir))
    )
    with pytest.raises(ConfigError, match="run `beat migrate`"):
        await runner.setup()
    await runner.cleanup()


async def test_rows_survive_every_migration(tmp_path):
    """Data written under the first schema is all there after the later migrations.

    On SQLite a column change rebuilds the table; with foreign keys on, that would
    cascade-delete the rows that point at it (sessions of users, areas of forces).
    """
    url = (
        PG_URL.rpartition("/")[0] + "/beat_migration_rows"
        if PG_URL
        else f"sqlite://{tmp_path / 'm.sqlite3'}"
    )
    settings = Settings(database_url=url, data_dir=tmp_path)
    if PG_URL:
        async with TortoiseContext() as ctx:
            await ctx.init(config=beat_db.tortoise_config(settings), _create_db=True)
    try:
        assert await beat_db.migrate(settings, target="0001_initial") == ["0001_initial"]
        async with beat_db.db_session(settings) as ctx:
            conn = ctx.db()
            await conn.execute_script(
                """
                INSERT INTO "force" (id, name, description, url, telephone, engagement_methods,
                    created_at, updated_at)
                VALUES ('kent', 'Kent Police', '', '', '', '[]', '2026-01-01 00:00:00+00:00',
                    '2026-01-01 00:00:00+00:00');
                INSERT INTO "team" (id, force_id, code, name, created_at)
                VALUES (1, 'kent', 'K1', 'K1 team', '2026-01-01 00:00:00+00:00');
                INSERT INTO "neighbourhood" (id, force_id, code, name, description, url_force,
                    contact_details, locations, team_id, created_at, updated_at)
                VALUES (1, 'kent', 'K1', 'Kent One', '', '', '{}', '[]', 1,
                    '2026-01-01 00:00:00+00:00', '2026-01-01 00:00:00+00:00');
                INSERT INTO "user" (id, email, password_hash, role, force_id, team_id, display_name,
                    created_at, updated_at)
                VALUES (1, 'pc@kent.police.uk', 'x', 'officer', 'kent', 1, 'PC',
                    '2026-01-01 00:00:00+00:00', '2026-01-01 00:00:00+00:00');
                INSERT INTO "session" (id, user_id, created_at, last_used_at, expires_at,
                    revoked_reason, user_agent)
                VALUES ('0d6f7a4e-3c1c-4a57-9d7e-2f1c1b0a9e01', 1, '2026-01-01 00:00:00+00:00',
                    '2026-01-01 00:00:00+00:00', '2027-01-01 00:00:00+00:00', '', '');
                """
            )
        applied = await beat_db.migrate(settings)
        assert applied and "0001_initial" not in applied
        async with beat_db.db_session(settings):
            user = await User.get(id=1)
            assert user.team_id == 1 and user.publish_unreviewed is False
            assert await Session.filter(user_id=1).count() == 1
            area = await Neighbourhood.get(id=1)
            assert area.team_id == 1 and area.hold_since is None
    finally:
        if PG_URL:
            async with beat_db.db_session(Settings(database_url=PG_URL)) as ctx:
                await ctx.db().execute_script(
                    'DROP DATABASE IF EXISTS "beat_migration_rows" WITH (FORCE)'
                )
