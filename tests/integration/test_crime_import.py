"""Importing police.uk crime data: counts that match the files, idempotence, areas, outcomes."""

from __future__ import annotations

import csv
import json
import random
import shutil
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from shapely.geometry import Point, Polygon, shape

from beat import areas, crimes
from beat.crimefiles import CrimeFileError
from beat.errors import SourceError
from beat.models import (
    AreaCrimeStat,
    Crime,
    CrimeMonth,
    CrimeOutcome,
    CrimeSource,
    FeedVersion,
    Force,
    ForceCrimeStat,
    Neighbourhood,
)
from beat.policeuk.folder import FolderSource
from tests.helpers import DEMO_FORCE, create_areas, create_force
from tests.unit.test_crimefiles import REFERENCE_CATEGORIES

REPO = Path(__file__).resolve().parents[2]
CITY = REPO / "beat" / "demo_data" / "police-uk" / "city-of-london"
DATA = REPO / "tests" / "data" / "police-uk"
WARDS = REPO / "tests" / "data" / "boundaries" / "WD19CD"
STREET_FILES = sorted(CITY.glob("*-street.csv"))
MONTH_FILE = {p.name[:7]: p for p in STREET_FILES}
API_FILES = [DATA / "crime_data_mozfest.json", DATA / "all-crime_1.json"]
OCTOBER_OUTCOMES = DATA / "2017-10-city-of-london-outcomes.csv"
NOVEMBER_OUTCOMES = DATA / "2017-11-city-of-london-outcomes.csv"
NAME_TO_SLUG = {name: slug for slug, name in REFERENCE_CATEGORIES.items()}
T0 = datetime(2018, 1, 10, 9, 0, tzinfo=UTC)


def csv_rows(*paths: Path) -> list[dict[str, str]]:
    rows: list[dict[str, str]] = []
    for path in paths:
        with path.open(newline="", encoding="utf-8") as f:
            rows.extend(csv.DictReader(f))
    return rows


async def import_all(now: datetime = T0) -> list[crimes.ImportSummary]:
    return [await crimes.import_file(p, now=now) for p in STREET_FILES]


async def snapshot() -> dict[str, Any]:
    """Everything an import writes, for before/after comparisons."""
    return {
        "crimes": sorted(
            await Crime.all().values_list(
                "id", "row_key", "force_id", "month", "category", "lat", "lng", "outcome",
                "outcome_month", "neighbourhood_id", "location", "source_id",
            )
        ),
        "area_stats": sorted(
            await AreaCrimeStat.all().values_list("id", "neighbourhood_id", "month", "category", "count")
        ),
        "force_stats": sorted(
            await ForceCrimeStat.all().values_list("id", "force_id", "month", "category", "count")
        ),
        "months": sorted(
            await CrimeMonth.all().values_list("force_id", "month", "arrived_at", "updated_at", "rows")
        ),
        "sources": sorted(await CrimeSource.all().values_list("id", "kind", "sha256", "rows")),
        "outcomes": sorted(await CrimeOutcome.all().values_list("persistent_id", "month", "outcome")),
        "feeds": sorted(await FeedVersion.all().values_list("neighbourhood_id", "version")),
    }  # fmt: skip


async def area_counts() -> Counter[tuple[str, str, str]]:
    """AreaCrimeStat as (ward code, month, category slug) -> count."""
    codes = dict(await Neighbourhood.all().values_list("id", "code"))
    found: Counter[tuple[str, str, str]] = Counter()
    for area_id, month, category, count in await AreaCrimeStat.all().values_list(
        "neighbourhood_id", "month", "category", "count"
    ):
        found[(codes[area_id], month, category)] += count
    return found


def point_in_polygon_counts(
    rows: list[dict[str, str]], boundaries: dict[str, Any]
) -> Counter[tuple[str, str, str]]:
    """The rule, computed here independently: the smallest boundary covering the point."""
    expected: Counter[tuple[str, str, str]] = Counter()
    for row in rows:
        if not row["Longitude"]:
            continue
        point = Point(float(row["Longitude"]), float(row["Latitude"]))
        covering = [(g.area, code) for code, g in boundaries.items() if g.covers(point)]
        if covering:
            code = min(covering)[1]
            expected[(code, row["Month"], NAME_TO_SLUG[row["Crime type"]])] += 1
    return expected


def demo_boundaries(folder: Path) -> dict[str, Polygon]:
    """The live wards of a police.uk-style folder, read straight from its boundary files."""
    listing = json.loads((folder / DEMO_FORCE / "neighbourhoods.json").read_text())
    found = {}
    for item in listing:
        points = json.loads((folder / DEMO_FORCE / item["id"] / "boundary.json").read_text())
        found[item["id"]] = Polygon([(float(p["longitude"]), float(p["latitude"])) for p in points])
    return found


@pytest.fixture
async def city(db, demo_areas):
    await create_areas(demo_areas)


# ---- totals and idempotence ------------------------------------------------------------------


async def test_nine_city_months_give_the_same_totals_as_a_plain_csv_count(city):
    summaries = await import_all()

    rows = csv_rows(*STREET_FILES)
    expected = Counter((r["Month"], NAME_TO_SLUG[r["Crime type"]]) for r in rows)
    stored = Counter(
        {
            (month, category): count
            for month, category, count in await ForceCrimeStat.filter(
                force_id=DEMO_FORCE
            ).values_list("month", "category", "count")
        }
    )
    assert stored == expected
    assert len(expected) > 100  # nine months x up to fourteen categories
    assert await Crime.all().count() == len(rows)
    unlocated = sum(1 for r in rows if not r["Longitude"])
    assert await Crime.filter(lat__isnull=True).count() == unlocated
    assert sum(s.unlocated for s in summaries) == unlocated
    assert sum(s.located for s in summaries) == len(rows) - unlocated
    assert await Crime.filter(category="anti-social-behaviour", persistent_id="").count() == sum(
        1 for r in rows if r["Crime type"] == "Anti-social behaviour"
    )
    per_month = Counter(r["Month"] for r in rows)
    months = await CrimeMonth.filter(force_id=DEMO_FORCE).values_list("month", "rows", "arrived_at")
    assert {m: n for m, n, _ in months} == per_month
    assert {a for _, _, a in months} == {T0}
    # Every located crime in a ward is in exactly one area statistic.
    assigned = await Crime.filter(neighbourhood_id__isnull=False).count()
    assert sum((await area_counts()).values()) == assigned
    assert sum(s.assigned for s in summaries) == assigned
    assert sum(s.created for s in summaries) == len(rows)
    sources = (
        await CrimeSource.all().order_by("month").values_list("kind", "force_id", "month", "rows")
    )
    assert sources == [("street", DEMO_FORCE, m, n) for m, n in sorted(per_month.items())]


async def test_importing_everything_twice_changes_nothing(city):
    await import_all(T0)
    before = await snapshot()

    again = await import_all(T0 + timedelta(days=3))

    assert await snapshot() == before
    assert all((s.created, s.updated, s.removed) == (0, 0, 0) for s in again)
    assert [s.rows for s in again] == [len(csv_rows(p)) for p in STREET_FILES]


async def test_a_new_month_bumps_every_area_feed_and_a_repeat_bumps_none(city):
    await crimes.import_file(MONTH_FILE["2017-05"], now=T0)
    versions = dict(await FeedVersion.all().values_list("neighbourhood_id", "version"))
    live = await Neighbourhood.filter(force_id=DEMO_FORCE, retired_at=None).count()
    assert len(versions) == live == 25
    assert set(versions.values()) == {1}
    await crimes.import_file(MONTH_FILE["2017-05"], now=T0 + timedelta(hours=1))
    assert dict(await FeedVersion.all().values_list("neighbourhood_id", "version")) == versions


# ---- neighbourhoods --------------------------------------------------------------------------


async def test_counts_per_ward_equal_an_independent_point_in_polygon_count(db):
    """The 25 wards with their full ONS shapes (several parts and all), straight from GeoJSON."""
    force = await Force.create(id=DEMO_FORCE, name="City of London Police")
    boundaries = {}
    for path in sorted(WARDS.glob("*.geojsonl")):
        feature = json.loads(path.read_text())
        code = feature["properties"]["wd19cd"]
        boundaries[code] = shape(feature["geometry"])
        await Neighbourhood.create(
            force=force, code=code, name=feature["properties"]["wd19nm"],
            boundary=feature["geometry"], boundary_updated_at=T0,
        )  # fmt: skip

    await import_all()

    expected = point_in_polygon_counts(csv_rows(*STREET_FILES), boundaries)
    assert await area_counts() == expected
    assert sum(expected.values()) > 4000  # most City points are in a ward; some fall outside


async def test_boundary_changes_move_crimes_and_statistics(db, demo_areas, tmp_path):
    folder = tmp_path / "policeuk"
    shutil.copytree(demo_areas, folder)
    source = FolderSource(folder)
    await areas.sync_force(source, DEMO_FORCE, now=T0)
    await import_all()
    rows = csv_rows(*STREET_FILES)
    assert await area_counts() == point_in_polygon_counts(rows, demo_boundaries(folder))
    aldersgate, bassishaw = "E05009288", "E05009291"
    ids = dict(await Neighbourhood.all().values_list("code", "id"))
    versions = dict(await FeedVersion.all().values_list("neighbourhood_id", "version"))

    # police.uk drops Aldersgate and gives Bassishaw Aldersgate's boundary instead of its own.
    listing_path = folder / DEMO_FORCE / "neighbourhoods.json"
    listing = json.loads(listing_path.read_text())
    listing_path.write_text(json.dumps([n for n in listing if n["id"] != aldersgate]))
    ring = (folder / DEMO_FORCE / aldersgate / "boundary.json").read_text()
    (folder / DEMO_FORCE / bassishaw / "boundary.json").write_text(ring)
    await areas.sync_force(source, DEMO_FORCE, now=T0 + timedelta(days=1))

    now_counts = await area_counts()
    assert now_counts == point_in_polygon_counts(rows, demo_boundaries(folder))
    assert not any(code == aldersgate for code, _, _ in now_counts)
    assert await Crime.filter(neighbourhood_id=ids[aldersgate]).count() == 0
    assert await Crime.filter(neighbourhood_id=ids[bassishaw]).count() > 0
    after = dict(await FeedVersion.all().values_list("neighbourhood_id", "version"))
    assert after[ids[aldersgate]] > versions[ids[aldersgate]]
    assert after[ids[bassishaw]] > versions[ids[bassishaw]]

    result = await crimes.reassign_force(DEMO_FORCE, T0 + timedelta(days=2))
    assert result.moved == 0
    assert result.crimes == await Crime.filter(force_id=DEMO_FORCE, lat__isnull=False).count()


async def test_a_crime_outside_every_ward_stays_unassigned(city, tmp_path):
    path = tmp_path / "street.csv"
    lines = MONTH_FILE["2017-09"].read_bytes().decode().split("\r\n")
    far = lines[1].split(",")
    far[4], far[5] = "-1.500000", "53.800000"  # Leeds
    path.write_text("\r\n".join([lines[0], ",".join(far)]) + "\r\n")
    summary = await crimes.import_file(path, now=T0)
    assert (summary.located, summary.assigned) == (1, 0)
    assert (await Crime.get()).neighbourhood_id is None
    assert await AreaCrimeStat.all().count() == 0
    assert await ForceCrimeStat.all().values_list("count", flat=True) == [1]


# ---- malformed files -------------------------------------------------------------------------


def corrupt(source: Path, target: Path, line: int, change: Any) -> Path:
    lines = source.read_bytes().decode("utf-8").split("\r\n")
    fields = lines[line - 1].split(",")
    lines[line - 1] = change(fields)
    target.write_text("\r\n".join(lines), encoding="utf-8")
    return target


def _set(index: int, value: str) -> Any:
    def change(fields: list[str]) -> str:
        fields[index] = value
        return ",".join(fields)

    return change


@pytest.mark.parametrize(
    ("line", "change", "reason"),
    [
        (377, _set(1, "2017-3"), "is not a YYYY-MM month"),
        (120, _set(9, "Loitering"), "unknown crime type 'Loitering'"),
        (604, lambda f: ",".join(f[:11]), "expected 12 fields, found 11"),
        (2, _set(0, "not-an-id"), "not 64 hexadecimal characters"),
    ],
)
async def test_a_malformed_file_is_named_with_its_line_and_imports_nothing(
    city, tmp_path, line, change, reason
):
    await crimes.import_file(MONTH_FILE["2017-02"], now=T0)
    before = await snapshot()
    bad = corrupt(
        MONTH_FILE["2017-03"], tmp_path / "2017-03-city-of-london-street.csv", line, change
    )

    with pytest.raises(CrimeFileError) as caught:
        await crimes.import_file(bad, now=T0)

    assert (caught.value.file, caught.value.line) == (str(bad), line)
    assert reason in caught.value.reason
    assert await snapshot() == before


async def test_a_truncated_file_imports_nothing(city, tmp_path):
    data = MONTH_FILE["2017-03"].read_bytes()
    cut = tmp_path / "cut.csv"
    cut.write_bytes(data[: int(len(data) * 0.7)])
    before = await snapshot()
    with pytest.raises(CrimeFileError) as caught:
        await crimes.import_file(cut, now=T0)
    assert caught.value.line == cut.read_bytes().count(b"\n") + 1
    assert await snapshot() == before


async def test_bad_json_imports_nothing(db, tmp_path):
    await create_force("metropolitan", "Metropolitan Police Service")
    text = API_FILES[0].read_text()
    cut = tmp_path / "response.json"
    cut.write_text(text[: len(text) // 2])
    with pytest.raises(CrimeFileError) as caught:
        await crimes.import_file(cut, now=T0, force_id="metropolitan")
    assert "not valid JSON" in caught.value.reason
    assert caught.value.line == text[: len(text) // 2].count("\n") + 1
    assert await Crime.all().count() == await CrimeSource.all().count() == 0


async def test_a_bad_row_after_several_written_batches_still_imports_nothing(city, tmp_path):
    """Rows go to the database in batches; a failure deep in the file rolls them all back."""
    source = csv_rows(*STREET_FILES)
    rng = random.Random(7)
    path = tmp_path / "big.csv"
    total = crimes.BATCH * 2 + 500
    with path.open("w", newline="") as f:
        writer = csv.writer(f, lineterminator="\r\n")
        writer.writerow(source[0].keys())
        for i in range(total):
            row = dict(source[i % len(source)], Month="2017-06")
            if row["Crime ID"]:
                row["Crime ID"] = f"{rng.getrandbits(256):064x}"
            if i == total - 1:
                row["Crime type"] = "Fly-tipping"
            writer.writerow(row.values())
    before = await snapshot()
    with pytest.raises(CrimeFileError) as caught:
        await crimes.import_file(path, now=T0)
    assert caught.value.line == total + 1
    assert await snapshot() == before


async def test_a_force_that_is_not_loaded_stops_the_import(db):
    with pytest.raises(CrimeFileError) as caught:
        await crimes.import_file(MONTH_FILE["2017-09"], now=T0)
    assert caught.value.line == 2
    assert "City of London Police" in caught.value.reason
    assert "beat areas sync" in caught.value.reason
    assert await Crime.all().count() == await CrimeSource.all().count() == 0


async def test_stop_and_search_files_are_refused_by_name(city, tmp_path):
    path = tmp_path / "2019-06-greater-manchester-stop-and-search.csv"
    path.write_text(
        "Type,Date,Part of a policing operation,Policing operation,Latitude,Longitude,Gender,"
        "Age range,Self-defined ethnicity,Officer-defined ethnicity,Legislation,Object of search,"
        "Outcome,Outcome linked to object of search,Removal of more than just outer clothing\r\n"
        "Person search,2019-05-31T23:01:00+00:00,False,,53.407704,-2.162284,Female,10-17,White,"
        "White,Misuse of Drugs Act 1971 (section 23),Controlled drugs,"
        "A no further action disposal,,False\r\n"
    )
    with pytest.raises(CrimeFileError) as caught:
        await crimes.import_file(path, now=T0)
    assert caught.value.file == str(path)
    assert "recognised but not imported" in caught.value.reason


# ---- snapshots: ASB, removed rows ------------------------------------------------------------


async def test_identical_asb_rows_stay_distinct_and_are_never_doubled(city, tmp_path):
    lines = MONTH_FILE["2017-02"].read_bytes().decode().split("\r\n")
    asb = next(line for line in lines if line.startswith(",") and "Anti-social" in line)
    crime = lines[1]
    twice = tmp_path / "twice.csv"
    twice.write_text("\r\n".join([lines[0], asb, crime, asb]) + "\r\n")
    lng, lat = (float(v) for v in asb.split(",")[4:6])

    first = await crimes.import_file(twice, now=T0)
    assert first.created == 3
    assert await Crime.filter(category="anti-social-behaviour", lng=lng, lat=lat).count() == 2
    again = await crimes.import_file(twice, now=T0)
    assert (again.created, again.updated, again.removed) == (0, 0, 0)
    assert await Crime.filter(category="anti-social-behaviour").count() == 2

    once = tmp_path / "once.csv"
    once.write_text("\r\n".join([lines[0], crime, asb]) + "\r\n")
    replaced = await crimes.import_file(once, now=T0)
    assert replaced.removed == 1
    assert await Crime.filter(category="anti-social-behaviour").count() == 1
    stats = await ForceCrimeStat.filter(month="2017-02").values_list("category", "count")
    assert sorted(stats) == sorted(
        [("anti-social-behaviour", 1), (NAME_TO_SLUG[crime.split(",")[9]], 1)]
    )


async def test_a_crime_id_listed_twice_is_kept_twice_and_outcomes_reach_both(city, tmp_path):
    lines = MONTH_FILE["2017-09"].read_bytes().decode().split("\r\n")
    pid = "76d11cdeb5a103144c3e68185e71b4f48ce342d1594b5e5ade38dda60e5a0bbf"
    listed = next(line for line in lines if line.startswith(pid))
    path = tmp_path / "2017-09-city-of-london-street.csv"
    path.write_text("\r\n".join([*lines[:-1], listed, ""]))

    first = await crimes.import_file(path, now=T0)
    again = await crimes.import_file(path, now=T0)

    assert first.created == len(lines) - 1
    assert (again.created, again.updated, again.removed) == (0, 0, 0)
    assert await Crime.filter(persistent_id=pid).count() == 2
    await crimes.import_file(OCTOBER_OUTCOMES, now=T0)
    outcomes = await Crime.filter(persistent_id=pid).values_list("outcome", flat=True)
    assert outcomes == ["charged", "charged"]


async def test_a_republished_month_replaces_the_old_one(city, tmp_path):
    await crimes.import_file(MONTH_FILE["2017-12"], now=T0)
    arrived = await CrimeMonth.get(force_id=DEMO_FORCE, month="2017-12")
    lines = MONTH_FILE["2017-12"].read_bytes().decode().split("\r\n")
    dropped = lines.pop(5).split(",")
    changed = lines[9].split(",")
    changed[10] = "Investigation complete; no suspect identified"
    lines[9] = ",".join(changed)
    newer = tmp_path / "2017-12-city-of-london-street.csv"
    newer.write_text("\r\n".join(lines))

    later = T0 + timedelta(days=30)
    summary = await crimes.import_file(newer, now=later)

    assert (summary.created, summary.updated, summary.removed) == (0, 1, 1)
    assert not await Crime.exists(persistent_id=dropped[0])
    assert (await Crime.get(persistent_id=changed[0])).outcome == "no-further-action"
    month = await CrimeMonth.get(force_id=DEMO_FORCE, month="2017-12")
    assert (month.arrived_at, month.updated_at, month.rows) == (arrived.arrived_at, later, 463)
    assert sum(await ForceCrimeStat.filter(month="2017-12").values_list("count", flat=True)) == 463


# ---- API responses ---------------------------------------------------------------------------


def api_keys(*paths: Path) -> dict[int, dict[str, Any]]:
    """The distinct records of API responses: by API id (the two samples agree on every id)."""
    found = {}
    for path in paths:
        for item in json.loads(path.read_text()):
            found[item["id"]] = item
    return found


async def test_overlapping_api_responses_import_without_doubles(db):
    await create_force("metropolitan", "Metropolitan Police Service")
    first = await crimes.import_file(API_FILES[0], now=T0, force_id="metropolitan")
    second = await crimes.import_file(API_FILES[1], now=T0, force_id="metropolitan")

    records = api_keys(*API_FILES)
    # police.uk lists a few crimes twice under one persistent id, as two records: both count.
    pids = {r["persistent_id"] for r in records.values() if r["persistent_id"]}
    assert len(pids) < sum(1 for r in records.values() if r["persistent_id"])
    assert await Crime.all().count() == len(records)
    assert first.created + second.created == len(records)
    assert second.created < second.rows  # most of its records were already there
    btp = [r for r in records.values() if r["location_type"] == "BTP"]
    assert await Crime.filter(force_id__isnull=True).count() == len(btp) > 0
    by_category = Counter(r["category"] for r in records.values() if r["location_type"] != "BTP")
    stored = await ForceCrimeStat.filter(force_id="metropolitan").values_list("category", "count")
    assert dict(stored) == by_category
    assert (await CrimeMonth.get(force_id="metropolitan")).rows == sum(by_category.values())

    before = await snapshot()
    for path in API_FILES:
        await crimes.import_file(path, now=T0 + timedelta(days=1), force_id="metropolitan")
    assert await snapshot() == before


async def test_api_records_from_the_sync_import_the_same_way(db):
    await create_force("metropolitan", "Metropolitan Police Service")
    responses = [json.loads(p.read_text()) for p in API_FILES]
    for i, records in enumerate(responses):
        summary = await crimes.import_api_crimes(
            records + records[:3],  # overlapping areas repeat records within one import too
            name=f"crimes-street poly {i}", force_id="metropolitan", month="2014-08", now=T0,
        )  # fmt: skip
        assert summary.rows == len(records) + 3
    assert await Crime.all().count() == len(api_keys(*API_FILES))
    with pytest.raises(CrimeFileError) as caught:
        await crimes.import_api_crimes(
            responses[0], name="wrong month", force_id="metropolitan", month="2014-09", now=T0
        )
    assert (caught.value.item, caught.value.file) == (1, "wrong month")
    with pytest.raises(SourceError, match="beat areas sync"):
        await crimes.import_api_crimes(
            responses[0], name="x", force_id="atlantis", month=None, now=T0
        )


async def test_an_api_response_file_needs_its_force(db):
    with pytest.raises(CrimeFileError, match="--force"):
        await crimes.import_file(API_FILES[0], now=T0)


async def test_api_records_update_a_csv_month_but_add_no_second_asb(city):
    await crimes.import_file(MONTH_FILE["2017-02"], now=T0)
    before = await Crime.all().count()
    rows = csv_rows(MONTH_FILE["2017-02"])
    asb = next(r for r in rows if not r["Crime ID"] and r["Longitude"])
    crime = next(r for r in rows if r["Crime ID"] and r["Longitude"])

    def record(row: dict[str, str], api_id: int, slug: str, outcome: Any) -> dict[str, Any]:
        return {
            "category": slug, "location_type": "Force", "context": "", "id": api_id,
            "location": {"latitude": row["Latitude"], "longitude": row["Longitude"],
                         "street": {"id": 1, "name": row["Location"]}},
            "outcome_status": outcome, "persistent_id": row["Crime ID"],
            "location_subtype": "", "month": "2017-02",
        }  # fmt: skip

    caution = {"category": "Offender given a caution", "date": "2017-06"}
    records = [
        record(asb, 101, "anti-social-behaviour", None),
        record(crime, 102, NAME_TO_SLUG[crime["Crime type"]], caution),
    ]
    summary = await crimes.import_api_crimes(
        records, name="api", force_id=DEMO_FORCE, month="2017-02", now=T0
    )

    assert (summary.skipped, summary.created, summary.updated) == (1, 0, 1)
    assert await Crime.all().count() == before
    stored = await Crime.get(persistent_id=crime["Crime ID"])
    assert (stored.outcome, stored.outcome_month, stored.api_id) == ("cautioned", "2017-06", 102)


# ---- outcomes --------------------------------------------------------------------------------


async def outcomes_by_crime() -> dict[str, tuple[str, str]]:
    return {
        pid: (outcome, month)
        for pid, outcome, month in await Crime.exclude(persistent_id="").values_list(
            "persistent_id", "outcome", "outcome_month"
        )
    }


async def test_outcome_files_record_case_histories_and_update_crimes(city):
    await crimes.import_file(MONTH_FILE["2017-09"], now=T0)
    before = await outcomes_by_crime()

    october = await crimes.import_file(OCTOBER_OUTCOMES, now=T0)

    rows = csv_rows(OCTOBER_OUTCOMES)
    assert (october.rows, october.created) == (5, 5)
    in_september = [r for r in rows if r["Crime ID"] in before]
    assert october.updated == len(in_september) == 4
    after = await outcomes_by_crime()
    assert after[rows[0]["Crime ID"]] == ("no-further-action", "2017-10")
    assert after[rows[2]["Crime ID"]] == ("penalty-notice-issued", "2017-10")
    assert after[rows[3]["Crime ID"]] == ("unable-to-prosecute", "2017-10")  # unlocated
    unchanged = {k: v for k, v in after.items() if k not in {r["Crime ID"] for r in rows}}
    assert unchanged == {k: v for k, v in before.items() if k in unchanged}
    assert await CrimeOutcome.filter(persistent_id=rows[4]["Crime ID"]).count() == 1  # no crime

    again = await crimes.import_file(OCTOBER_OUTCOMES, now=T0)
    assert (again.created, again.updated) == (0, 0)
    november = await crimes.import_file(NOVEMBER_OUTCOMES, now=T0)
    assert (november.created, november.updated) == (2, 1)
    pid = rows[1]["Crime ID"]
    history = (
        await CrimeOutcome.filter(persistent_id=pid)
        .order_by("month", "id")
        .values_list("month", "outcome")
    )
    assert history == [("2017-10", "charged"), ("2017-11", "fined"), ("2017-11", "compensation")]
    assert (await outcomes_by_crime())[pid] == ("compensation", "2017-11")

    # The street file again: its older "Last outcome category" does not undo newer outcomes.
    street = await crimes.import_file(MONTH_FILE["2017-09"], now=T0)
    assert (street.created, street.updated, street.removed) == (0, 0, 0)
    assert (await outcomes_by_crime())[pid] == ("compensation", "2017-11")


async def test_outcomes_land_the_same_whichever_file_comes_first(city):
    files = [MONTH_FILE["2017-09"], OCTOBER_OUTCOMES, NOVEMBER_OUTCOMES]
    for path in files:
        await crimes.import_file(path, now=T0)
    street_first = await outcomes_by_crime()

    await Crime.all().delete()
    await CrimeOutcome.all().delete()
    await CrimeSource.all().delete()
    for path in reversed(files):
        await crimes.import_file(path, now=T0)

    assert await outcomes_by_crime() == street_first


async def test_outcomes_at_location_responses_update_crimes(db, tmp_path):
    await create_force("metropolitan", "Metropolitan Police Service")
    await crimes.import_file(API_FILES[0], now=T0, force_id="metropolitan")
    crime = next(r for r in json.loads(API_FILES[0].read_text()) if r["persistent_id"])
    bare = {k: v for k, v in crime.items() if k != "outcome_status"}
    items = [
        {"category": {"code": "unable-to-prosecute", "name": "Unable to prosecute suspect"},
         "date": "2014-10", "person_id": None, "crime": bare},
        {"category": {"code": "", "name": "Offender given penalty notice"},
         "date": "2014-09", "person_id": None, "crime": bare},
    ]  # fmt: skip
    path = tmp_path / "outcomes-at-location.json"
    path.write_text(json.dumps(items))

    summary = await crimes.import_file(path, now=T0)

    assert (summary.kind, summary.rows, summary.created) == ("api-outcomes", 2, 2)
    history = await CrimeOutcome.filter(persistent_id=crime["persistent_id"]).values_list(
        "month", "outcome"
    )
    assert sorted(history) == [
        ("2014-09", "penalty-notice-issued"),
        ("2014-10", "unable-to-prosecute"),
    ]
    stored = await Crime.filter(persistent_id=crime["persistent_id"]).values_list(
        "outcome", "outcome_month"
    )
    assert set(stored) == {("unable-to-prosecute", "2014-10")}
    assert await Crime.all().count() == len(json.loads(API_FILES[0].read_text()))
