"""`beat crimes sync` and the daily check: a force's month from police.uk, whole or not at all."""

from __future__ import annotations

import asyncio
import dataclasses
import io
import json
import shutil
import sys
from collections import Counter

import aiohttp
import pytest
from shapely.geometry import mapping
from shapely.ops import unary_union

from beat import area_files, areas, crimesync
from beat import db as beat_db
from beat.cli import main
from beat.errors import Invalid, NotFound, SourceError
from beat.models import AreaCrimeStat, Crime, CrimeMonth, CrimeSource, Neighbourhood
from beat.policeuk.folder import FolderSource
from beat.scheduler.jobs import JOBS, JobContext
from beat.scheduler.runner import Scheduler
from tests.conftest import PG_URL, _truncate_postgres
from tests.fakes.policeuk import CRIMES, DATA, start
from tests.policeuk_helpers import (
    FAST,
    METROPOLITAN,
    METROPOLITAN_AREAS,
    SAMPLE_MONTH,
    boundary,
    fast_client,
    ids_inside,
)

CHECK_JOB = next(job for job in JOBS if job.name == "check-police-uk")


def expected_by_area() -> dict[str, set[int]]:
    """Which sample crimes lie in which made-up Metropolitan area, by shapely alone."""
    return {code: ids_inside(boundary(code)) for code in METROPOLITAN_AREAS}


def expected_ids() -> set[int]:
    return ids_inside(unary_union([boundary(c) for c in METROPOLITAN_AREAS]))


@pytest.fixture
async def police_uk(aiohttp_server):
    return await start(aiohttp_server, **FAST)


@pytest.fixture
async def session():
    async with aiohttp.ClientSession() as s:
        yield s


@pytest.fixture
async def metropolitan(db, police_uk, session, clock):
    """The made-up Metropolitan areas, synced from the local police.uk."""
    await areas.sync_force(fast_client(session, police_uk.base_url), METROPOLITAN, now=clock())
    return fast_client(session, police_uk.base_url)


async def stored_counts() -> dict[str, int]:
    codes = dict(await Neighbourhood.filter(force_id=METROPOLITAN).values_list("id", "code"))
    counts: Counter[str] = Counter()
    for area_id, count in await AreaCrimeStat.filter(month=SAMPLE_MONTH).values_list(
        "neighbourhood_id", "count"
    ):
        counts[codes[area_id]] += count
    return dict(counts)


async def test_a_month_lands_in_the_right_areas(metropolitan, police_uk, clock):
    result = await crimesync.sync_month(metropolitan, METROPOLITAN, month=SAMPLE_MONTH, now=clock())

    expected = expected_by_area()
    assert {r["id"] for r in result.fetched.records} == expected_ids()
    assert await Crime.all().count() == len(expected_ids())
    assert set(await Crime.all().values_list("api_id", flat=True)) <= expected_ids()
    assert await stored_counts() == {code: len(ids) for code, ids in expected.items()}
    assert await CrimeMonth.exists(force_id=METROPOLITAN, month=SAMPLE_MONTH)
    methods = Counter(q.method for q in police_uk.queries)
    assert methods == {"GET": 2, "POST": 2}  # two small areas, two long outlines


async def test_crimes_police_uk_returns_outside_every_area_are_left_out(metropolitan, clock):
    # police.uk's `poly` has no holes: a hole's crimes come back with the area's and must go.
    grn3 = boundary("GRN3")
    hole = grn3.centroid.buffer(0.003)
    donut = grn3.difference(hole)
    feature = {"type": "Feature", "properties": {"id": "GRN3"}, "geometry": mapping(donut)}
    await area_files.import_areas(
        METROPOLITAN, [area_files.parse_feature(feature, "test", id_property=None,
                                                name_property=None)], now=clock(),
    )  # fmt: skip
    in_hole = ids_inside(hole) & ids_inside(grn3)
    assert in_hole

    result = await crimesync.sync_month(metropolitan, METROPOLITAN, month=SAMPLE_MONTH, now=clock())

    assert result.fetched.outside == len(in_hole)
    assert {r["id"] for r in result.fetched.records} == expected_ids() - in_hole


async def test_the_default_month_is_police_uks_newest(metropolitan, clock):
    result = await crimesync.sync_month(metropolitan, METROPOLITAN, now=clock())
    assert result.fetched.month == SAMPLE_MONTH


async def test_syncing_a_month_again_changes_nothing(metropolitan, clock):
    await crimesync.sync_month(metropolitan, METROPOLITAN, month=SAMPLE_MONTH, now=clock())
    crimes_before = sorted(await Crime.all().values_list("row_key", "neighbourhood_id", "outcome"))
    stats_before = await stored_counts()
    clock.advance(days=1)
    again = await crimesync.sync_month(metropolitan, METROPOLITAN, month=SAMPLE_MONTH, now=clock())
    assert again.summary.created == 0
    assert sorted(await Crime.all().values_list("row_key", "neighbourhood_id", "outcome")) == (
        crimes_before
    )
    assert await stored_counts() == stats_before


async def test_busy_areas_are_split_and_the_month_is_the_same(metropolitan, police_uk, clock):
    police_uk.set_max_crimes(30)
    result = await crimesync.sync_month(metropolitan, METROPOLITAN, month=SAMPLE_MONTH, now=clock())
    assert any(q.status == 503 for q in police_uk.queries)
    assert {r["id"] for r in result.fetched.records} == expected_ids()
    assert await Crime.all().count() == len(expected_ids())
    assert await stored_counts() == {c: len(ids) for c, ids in expected_by_area().items()}


async def test_one_request_that_keeps_failing_writes_nothing(metropolitan, police_uk, clock):
    police_uk.fail_next(2, status=500, on="crimes-street")  # the first area, and its one retry
    metropolitan.retries = 1
    with pytest.raises(SourceError) as caught:
        await crimesync.sync_month(
            metropolitan, METROPOLITAN, month=SAMPLE_MONTH, now=clock(), concurrency=1
        )
    message = str(caught.value)
    assert "neighbourhood GRN.1" in message
    assert "/api/crimes-street/all-crime?date=2014-08" in message
    assert "HTTP 500" in message
    assert await Crime.all().count() == 0
    assert await CrimeSource.all().count() == 0
    assert await CrimeMonth.all().count() == 0
    assert await AreaCrimeStat.all().count() == 0


async def test_a_month_police_uk_does_not_serve_is_refused_before_asking(
    metropolitan, police_uk, clock
):
    with pytest.raises(Invalid, match=r"police\.uk serves 2014-08 to 2014-08, not 2011-01"):
        await crimesync.sync_month(metropolitan, METROPOLITAN, month="2011-01", now=clock())
    assert police_uk.queries == []


async def test_a_force_without_areas_is_not_found(db, police_uk, session, clock):
    with pytest.raises(NotFound, match="areas sync"):
        await crimesync.sync_month(
            fast_client(session, police_uk.base_url), "kent", month=SAMPLE_MONTH, now=clock()
        )


async def test_the_daily_check_imports_a_new_month_once(
    metropolitan, police_uk, db, settings, clock
):
    settings = dataclasses.replace(settings, policeuk_crime_forces=(METROPOLITAN,))

    async def no_channels(now: object) -> int:
        return 0

    scheduler = Scheduler(
        db, settings, owner="t", clock=clock, check_channels=no_channels, jobs=(CHECK_JOB,),
        police_uk=metropolitan,
    )  # fmt: skip
    assert await scheduler.campaign()

    assert await scheduler.run_job(CHECK_JOB) == 1
    assert await Crime.all().count() == len(expected_ids())
    asked = len(police_uk.queries)

    clock.advance(days=1)
    assert await scheduler.run_job(CHECK_JOB) == 0
    assert len(police_uk.queries) == asked  # the month is there: nothing fetched
    assert await CrimeMonth.filter(force_id=METROPOLITAN).count() == 1


async def test_the_daily_check_does_nothing_without_forces(police_uk, session, settings, clock):
    async def no_channels(now: object) -> int:
        return 0

    client = fast_client(session, police_uk.base_url)
    context = JobContext(clock(), settings.photos_dir, no_channels, police_uk=client)
    assert await CHECK_JOB.run(context) == 0
    assert police_uk.state.requests["total"] == 0


# ---- offline: a folder laid out like the API, through the command line -----------------------


@pytest.fixture
def offline_folder(tmp_path):
    """The Metropolitan documents and the month's responses, as `crimes sync --source` reads."""
    root = tmp_path / "police-uk"
    shutil.copytree(DATA / "api", root)
    month = root / "crimes-street" / "all-crime" / SAMPLE_MONTH
    month.mkdir(parents=True)
    for file in CRIMES[SAMPLE_MONTH]:
        shutil.copy(file, month)
    (root / "crime-last-updated.json").write_text(json.dumps({"date": f"{SAMPLE_MONTH}-01"}))
    return root


def run(*argv: str) -> tuple[int, str]:
    out = io.StringIO()
    old = sys.stdin
    sys.stdin = io.StringIO("")
    try:
        code = main(["--log-level", "WARNING", *argv], out=out)
    finally:
        sys.stdin = old
    return code, out.getvalue()


@pytest.fixture
def cli_env(settings, monkeypatch):
    monkeypatch.setenv("BEAT_DATA_DIR", str(settings.data_dir))
    monkeypatch.setenv("BEAT_DATABASE_URL", settings.database_url)
    monkeypatch.setenv("BEAT_KEYS_DIR", str(settings.signing_keys_dir))
    if PG_URL:

        async def clean() -> None:
            async with beat_db.db_session(settings) as ctx:
                await _truncate_postgres(ctx)

        asyncio.run(clean())
    return settings


def test_crimes_sync_from_a_folder_on_the_command_line(cli_env, offline_folder, capsys):
    assert run("areas", "sync", METROPOLITAN, "--source", str(offline_folder))[0] == 0
    code, out = run("crimes", "sync", METROPOLITAN, "--source", str(offline_folder))
    assert code == 0, capsys.readouterr().err
    assert out.startswith(f"{METROPOLITAN} {SAMPLE_MONTH}: {len(expected_ids())} crimes in 4 ")

    async def count() -> int:
        async with beat_db.db_session(cli_env):
            return await Crime.all().count()

    assert asyncio.run(count()) == len(expected_ids())


def test_crimes_sync_names_what_is_missing(cli_env, offline_folder, capsys):
    assert run("areas", "sync", METROPOLITAN, "--source", str(offline_folder))[0] == 0
    code, _ = run(
        "crimes", "sync", METROPOLITAN, "--month", "2014-09", "--source", str(offline_folder)
    )
    assert code == 1
    err = capsys.readouterr().err
    assert "crimes-street/all-crime" in err
    assert "2014-09" in err


async def test_a_folder_source_gives_the_same_month_as_the_api(db, offline_folder, clock):
    folder = FolderSource(offline_folder)
    await areas.sync_force(folder, METROPOLITAN, now=clock())
    fetched = await crimesync.fetch_month(folder, METROPOLITAN, SAMPLE_MONTH)
    assert {r["id"] for r in fetched.records} == expected_ids()
    assert fetched.outside == 0  # a folder answers exactly; only the API's outlines overreach


def test_the_forces_to_keep_up_to_date_are_a_setting():
    from beat.settings import Settings

    assert Settings.from_env({}).policeuk_crime_forces == ()
    env = {"BEAT_POLICEUK_CRIME_FORCES": " metropolitan, city-of-london ,"}
    assert Settings.from_env(env).policeuk_crime_forces == ("metropolitan", "city-of-london")


async def test_the_daily_checks_source_is_the_api_or_a_folder(tmp_path, session):
    from beat.app import police_uk_source
    from beat.policeuk.client import PoliceUkClient

    assert isinstance(police_uk_source("https://data.police.uk/api", session), PoliceUkClient)
    assert isinstance(police_uk_source(str(tmp_path), session), FolderSource)
