"""Statistics, points, comparison, outcomes and the feed after importing the City's real files.

The importer (`beat.crimes.import_paths`) reads the nine real street CSVs; the expected numbers
are counted here from the same files with nothing but `csv` and a point-in-polygon test
against the stored boundaries (a point on a shared edge goes to the smaller area, as the
importer documents).
"""

from __future__ import annotations

import csv
from collections import Counter, defaultdict
from datetime import date, datetime
from pathlib import Path

import pytest
from shapely.geometry import Point, shape

from beat import crimes, crimestats, feed, feed_versions
from beat.models import Force, Neighbourhood
from tests.feed_helpers import CITY_CRIMES, CITY_MONTHS, street_rows
from tests.helpers import DEMO_FORCE, create_areas

TODAY = date(2026, 11, 25)


@pytest.fixture
async def imported(db, demo_areas, clock) -> datetime:
    await create_areas(demo_areas)
    await crimes.import_paths([CITY_CRIMES], now=clock.now)
    return clock.now


@pytest.fixture
async def expected(imported) -> dict[tuple[str, str], list[dict[str, str]]]:
    """(area code, month) -> the CSV rows that fall in that area, counted independently."""
    areas = [
        (n.code, shape(n.boundary))
        for n in await Neighbourhood.filter(force_id=DEMO_FORCE, retired_at=None)
        if n.boundary
    ]
    rows: dict[tuple[str, str], list[dict[str, str]]] = defaultdict(list)
    for month in CITY_MONTHS:
        for row in street_rows(month):
            if not row["Longitude"]:
                continue
            point = Point(float(row["Longitude"]), float(row["Latitude"]))
            covering = [(poly.area, code) for code, poly in areas if poly.covers(point)]
            if covering:
                rows[(min(covering)[1], month)].append(row)
    return rows


SLUGS = {name: slug for slug, name in crimestats.CATEGORIES.items()}


def by_category(rows: list[dict[str, str]]) -> dict[str, int]:
    return dict(Counter(SLUGS[r["Crime type"]] for r in rows))


async def test_every_areas_monthly_stats_equal_a_plain_count_of_the_csv_rows(expected):
    codes = await Neighbourhood.filter(force_id=DEMO_FORCE).values_list("code", flat=True)
    checked = 0
    for code in codes:
        for month in CITY_MONTHS:
            stats = await crimestats.area_stats(DEMO_FORCE, str(code), month, today=TODAY)
            rows = expected.get((str(code), month), [])
            assert stats.current.total == len(rows), (code, month)
            assert {k: v for k, v in stats.current.by_category.items() if v} == by_category(rows)
            checked += len(rows)
    located = sum(1 for m in CITY_MONTHS for r in street_rows(m) if r["Longitude"])
    assert 0 < checked <= located


async def test_previous_month_and_year_before_are_given_only_when_imported(expected):
    code = max(expected, key=lambda k: len(expected[k]))[0]  # the busiest area
    march = await crimestats.area_stats(DEMO_FORCE, code, "2017-03", today=TODAY)
    assert march.previous is not None
    assert march.previous.total == len(expected.get((code, "2017-02"), []))
    assert march.year_before is None  # 2016-03 is not among the files
    february = await crimestats.area_stats(DEMO_FORCE, code, "2017-02", today=TODAY)
    assert february.previous is None
    december = await crimestats.area_stats(DEMO_FORCE, code, "2017-12", today=TODAY)
    assert december.previous is None  # 2017-11 was never published in these files
    assert december.lag_months == (2026 - 2017) * 12 + (11 - 12)
    default = await crimestats.area_stats(DEMO_FORCE, code, None, today=TODAY)
    assert default.current.month == "2017-12"
    assert default.available_months == sorted(CITY_MONTHS, reverse=True)


async def test_top_locations_are_the_busiest_place_names_in_the_rows(expected):
    for (code, month), rows in sorted(expected.items())[:20]:
        stats = await crimestats.area_stats(DEMO_FORCE, code, month, today=TODAY)
        counted = Counter(r["Location"] for r in rows)
        ranked = sorted(counted.items(), key=lambda kv: (-kv[1], kv[0]))[:5]
        assert stats.top_locations == ranked, (code, month)


async def test_snap_point_counts_equal_the_csv_rows_at_each_point(expected):
    checked = 0
    for (code, month), rows in sorted(expected.items()):
        points = await crimestats.area_points(DEMO_FORCE, code, month)
        want: dict[tuple[float, float], Counter[str]] = defaultdict(Counter)
        for r in rows:
            want[(float(r["Latitude"]), float(r["Longitude"]))][SLUGS[r["Crime type"]]] += 1
        got = {(p.lat, p.lng): p.by_category for p in points.points}
        assert got == {k: dict(v) for k, v in want.items()}, (code, month)
        checked += 1
    assert checked > 20


async def test_force_comparison_sums_every_row_of_each_month(imported):
    await Force.create(id="kent", name="Kent Police")  # a force without data is not listed
    for month in CITY_MONTHS:
        rows = street_rows(month)
        found = await crimestats.compare_forces(month, crimestats.ALL_CRIME)
        (city,) = found.forces
        assert city.count == len(rows)  # located or not, every row counts
        bikes = await crimestats.compare_forces(month, "bicycle-theft")
        assert bikes.forces[0].count == sum(1 for r in rows if r["Crime type"] == "Bicycle theft")
    trend = (await crimestats.compare_forces(None, crimestats.ALL_CRIME)).forces[0].trend
    assert trend == [(m, len(street_rows(m))) for m in CITY_MONTHS]


async def test_outcomes_of_a_real_city_crime(imported, tmp_path: Path, clock):
    row = next(
        r
        for r in street_rows("2017-09")
        if r["Crime ID"] and r["Longitude"] and r["Last outcome category"]
    )
    crime_id = row["Crime ID"]
    # An outcomes file as police.uk lays them out, naming that crime twice more.
    outcomes = tmp_path / "2017-11-city-of-london-outcomes.csv"
    outcomes.write_text(
        "Crime ID,Month,Reported by,Falls within,Longitude,Latitude,Location,LSOA code,LSOA name,Outcome type\r\n"
        f"{crime_id},2017-10,City of London Police,City of London Police,{row['Longitude']},{row['Latitude']},{row['Location']},{row['LSOA code']},{row['LSOA name']},Under investigation\r\n"
        f"{crime_id},2017-11,City of London Police,City of London Police,{row['Longitude']},{row['Latitude']},{row['Location']},{row['LSOA code']},{row['LSOA name']},Offender given penalty notice\r\n",
        encoding="utf-8",
    )
    await crimes.import_paths([outcomes], now=clock.now)

    history = await crimestats.crime_history(crime_id)

    assert history.crime is not None
    assert history.crime.category == SLUGS[row["Crime type"]]
    assert history.crime.month == "2017-09"
    assert history.crime.location == row["Location"]
    assert (history.crime.lat, history.crime.lng) == (
        float(row["Latitude"]),
        float(row["Longitude"]),
    )
    assert [(o.month, o.outcome) for o in history.outcomes] == [
        ("2017-10", "under-investigation"),
        ("2017-11", "penalty-notice-issued"),
    ]


async def test_each_imported_month_is_a_card_at_its_arrival_and_a_reimport_changes_nothing(
    imported, clock
):
    area = await feed.area(DEMO_FORCE, "E05009288")
    page = await feed.page(area, cursor=None, limit=50, now=clock.now)
    cards = [i.crime_stats for i in page.items if i.crime_stats is not None]
    assert sorted(c.counts.month for c in cards) == CITY_MONTHS
    assert {c.arrived_at for c in cards} == {imported}
    versions = await feed_versions.versions(area.ids)

    clock.advance(days=1)
    await crimes.import_paths([CITY_CRIMES], now=clock.now)
    assert await feed_versions.versions(area.ids) == versions
    again = await feed.area(DEMO_FORCE, "E05009288")
    assert again.token == area.token


async def test_a_new_month_lands_above_a_readers_cursor(imported, clock, tmp_path: Path):
    area = await feed.area(DEMO_FORCE, "E05009288")
    first = await feed.page(area, cursor=None, limit=4, now=clock.now)
    assert first.next_cursor is not None
    # A later month arrives: September's rows relabelled as January 2018, with new crime ids.
    later = tmp_path / "2018-01-city-of-london-street.csv"
    rows = street_rows("2017-09")
    with later.open("w", newline="", encoding="utf-8") as out:
        writer = csv.DictWriter(out, fieldnames=list(rows[0]), lineterminator="\r\n")
        writer.writeheader()
        for row in rows:
            writer.writerow({**row, "Month": "2018-01", "Crime ID": row["Crime ID"][::-1]})
    clock.advance(days=30)
    await crimes.import_paths([later], now=clock.now)

    fresh = await feed.area(DEMO_FORCE, "E05009288")
    assert fresh.token != area.token
    rest = await feed.page(
        fresh, cursor=feed.decode_cursor(first.next_cursor), limit=50, now=clock.now
    )
    shown = [i.id for i in first.items] + [i.id for i in rest.items]
    assert len(shown) == len(set(shown)) == len(CITY_MONTHS)
    top = await feed.page(fresh, cursor=None, limit=1, now=clock.now)
    assert top.items[0].id == f"crime-stats:{DEMO_FORCE}:E05009288:2018-01"
