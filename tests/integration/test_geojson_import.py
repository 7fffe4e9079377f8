"""`beat areas import-geojson`: a force's own boundary files become its neighbourhoods."""

from __future__ import annotations

import asyncio
import io
import json
import sys
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path

import pytest
from shapely.geometry import Point, shape

from beat import area_files, areas, crimes
from beat import db as beat_db
from beat.cli import main
from beat.errors import NotFound, SourceError
from beat.models import AreaCrimeStat, Crime, Neighbourhood, Team
from tests.conftest import PG_URL, _truncate_postgres
from tests.helpers import ALDERSGATE, create_force

BOUNDARIES = Path(__file__).resolve().parents[1] / "data" / "boundaries"
WARD_FILES = sorted((BOUNDARIES / "WD19CD").glob("*.geojsonl"))
OUTLINE = BOUNDARIES / "LAD19CD" / "E09000001.geojsonl"
CITY = "city-of-london"
STREET_CSV = (
    Path(__file__).resolve().parents[2]
    / "beat" / "demo_data" / "police-uk" / "city-of-london" / "2017-02-city-of-london-street.csv"
)  # fmt: skip


def wards() -> dict[str, dict]:
    """Each ward file's one Feature, read without Beat."""
    return {p.stem: json.loads(p.read_text()) for p in WARD_FILES}


def clock_now() -> datetime:
    return datetime.now(UTC)


async def import_files(paths, force=CITY, **names):
    features = area_files.read_features(paths, **names)
    return await area_files.import_areas(force, features, now=clock_now(), files=len(paths))


async def test_the_25_city_wards_become_neighbourhoods(db):
    await create_force(CITY, "City of London Police")
    result = await import_files(WARD_FILES)
    assert (result.created, result.updated, result.unchanged, result.files) == (25, 0, 0, 25)
    rows = {n.code: n for n in await Neighbourhood.filter(force_id=CITY)}
    expected = wards()
    assert set(rows) == set(expected)
    for code, feature in expected.items():
        assert rows[code].name == feature["properties"]["wd19nm"]
        assert rows[code].boundary["type"] == "MultiPolygon"  # kept as the file has it
        assert shape(rows[code].boundary).equals(shape(feature["geometry"]))
    assert await Team.filter(force_id=CITY).count() == 25
    assert rows[ALDERSGATE].name == "Aldersgate"


async def test_the_locator_finds_imported_areas_at_once(db):
    await create_force(CITY)
    locator = areas.AreaLocator()
    inside = shape(wards()[ALDERSGATE]["geometry"]).representative_point()
    with pytest.raises(NotFound):
        await locator.locate(inside.y, inside.x)
    await import_files(WARD_FILES)
    assert (await locator.locate(inside.y, inside.x)).code == ALDERSGATE


async def test_the_district_outline_with_named_properties(db):
    await create_force(CITY)
    result = await import_files([OUTLINE], id_property="lad19cd", name_property="lad19nm")
    assert result.created == 1
    area = await Neighbourhood.get(force_id=CITY, code="E09000001")
    assert area.name == "City of London"
    assert area.centre_lat is not None
    assert shape(area.boundary).contains(Point(area.centre_lng, area.centre_lat))


async def test_a_feature_collection_and_feature_ids(db, tmp_path):
    await create_force(CITY)
    features = [wards()[code] for code in (ALDERSGATE, "E05009289")]
    features[0] = {**features[0], "id": "ALD", "properties": {"name": "Aldersgate &amp; Barbican"}}
    features[1] = {**features[1], "properties": {"id": "BAS", "ward": "Bassishaw"}}
    collection = tmp_path / "city.geojson"
    collection.write_text(json.dumps({"type": "FeatureCollection", "features": features}))
    await import_files([collection])
    assert dict(await Neighbourhood.filter(force_id=CITY).values_list("code", "name")) == {
        "ALD": "Aldersgate & Barbican",
        "BAS": "BAS",
    }
    await import_files([collection], name_property="ward")
    assert (await Neighbourhood.get(code="BAS")).name == "Bassishaw"


async def test_importing_again_changes_only_what_changed(db, tmp_path):
    await create_force(CITY)
    await import_files(WARD_FILES)
    locator = areas.AreaLocator()
    moved = wards()[ALDERSGATE]
    moved["geometry"] = {"type": "Polygon", "coordinates": [
        [[-0.2, 51.6], [-0.19, 51.6], [-0.19, 51.61], [-0.2, 51.61], [-0.2, 51.6]]
    ]}  # fmt: skip
    (tmp_path / "moved.geojsonl").write_text(json.dumps(moved) + "\n")
    with pytest.raises(NotFound):  # north of the City: nobody's area yet
        await locator.locate(51.605, -0.195)
    result = await import_files([*WARD_FILES[1:], tmp_path / "moved.geojsonl"])
    assert (result.created, result.updated, result.unchanged) == (0, 1, 24)
    assert (await locator.locate(51.605, -0.195)).code == ALDERSGATE


@pytest.mark.parametrize(
    ("feature", "reason"),
    [
        ({"type": "Feature", "properties": {"id": "X"}, "geometry": {"type": "Point",
          "coordinates": [-0.09, 51.51]}}, "a Point, not a Polygon or MultiPolygon"),
        ({"type": "Feature", "properties": {"id": "X"}, "geometry": {"type": "Polygon",
          "coordinates": [[[532000, 181000], [533000, 181000], [533000, 182000],
                           [532000, 181000]]]}}, "British National Grid"),
        ({"type": "Feature", "properties": {"colour": "red"}, "geometry": None}, "no id"),
        ({"type": "Feature", "properties": {"id": "X"}, "geometry": {"type": "Polygon",
          "coordinates": [[[0, 51], [0, 51], [0, 51], [0, 51]]]}}, "encloses no area"),
    ],
)  # fmt: skip
async def test_a_bad_feature_names_file_and_index_and_nothing_is_written(
    db, tmp_path, feature, reason
):
    await create_force(CITY)
    good = wards()[ALDERSGATE]
    bad = tmp_path / "bad.geojsonl"
    bad.write_text(json.dumps(good) + "\n\n" + json.dumps(feature) + "\n")
    with pytest.raises(SourceError) as caught:
        await import_files([*WARD_FILES[1:3], bad])
    message = str(caught.value)
    assert f"{bad}:3: feature 1" in message
    assert reason in message
    assert await Neighbourhood.all().count() == 0


async def test_an_id_given_twice_is_refused(db):
    await create_force(CITY)
    with pytest.raises(SourceError, match="E05009288 is also at"):
        await import_files([WARD_FILES[0], WARD_FILES[0]])


async def test_an_unknown_force_writes_nothing(db):
    with pytest.raises(NotFound, match="no force 'kent'"):
        await import_files(WARD_FILES, force="kent")
    assert await Neighbourhood.all().count() == 0


async def test_crimes_move_into_newly_imported_areas(db):
    await create_force(CITY, "City of London Police")
    await crimes.import_file(STREET_CSV, now=clock_now())
    assert await Crime.filter(neighbourhood_id__not_isnull=True).count() == 0

    await import_files(WARD_FILES)

    shapes = {code: shape(f["geometry"]) for code, f in wards().items()}
    expected: Counter[str] = Counter()
    for lat, lng in await Crime.filter(lat__not_isnull=True).values_list("lat", "lng"):
        hits = [c for c, s in shapes.items() if s.intersects(Point(lng, lat))]
        if hits:
            expected[min(hits, key=lambda c: shapes[c].area)] += 1
    codes = dict(await Neighbourhood.filter(force_id=CITY).values_list("id", "code"))
    stored: Counter[str] = Counter()
    for area_id, count in await AreaCrimeStat.all().values_list("neighbourhood_id", "count"):
        stored[codes[area_id]] += count
    assert stored == expected
    assert sum(expected.values()) > 400


# ---- the command ------------------------------------------------------------------------------


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

    async def prepare() -> None:
        async with beat_db.db_session(settings) as ctx:
            if PG_URL:
                await _truncate_postgres(ctx)
            await create_force(CITY)

    asyncio.run(prepare())
    return settings


def test_import_geojson_on_the_command_line(cli_env):
    code, out = run("areas", "import-geojson", CITY, *map(str, WARD_FILES))
    assert code == 0
    assert out == f"{CITY}: 25 areas from 25 file(s) (25 new, 0 updated, 0 unchanged)\n"
    code, out = run("areas", "import-geojson", CITY, *map(str, WARD_FILES))
    assert out.endswith("(0 new, 0 updated, 25 unchanged)\n")


def test_import_geojson_errors_name_the_file_and_exit_non_zero(cli_env, tmp_path, capsys):
    broken = tmp_path / "broken.geojson"
    broken.write_text('{"type": "FeatureCollection", "features": [')
    code, _ = run("areas", "import-geojson", CITY, str(WARD_FILES[0]), str(broken))
    assert code == 1
    assert f"{broken}: line 1: not valid JSON" in capsys.readouterr().err
    code, _ = run("areas", "import-geojson", "kent", str(WARD_FILES[0]))
    assert code == 1
    assert "no force 'kent'" in capsys.readouterr().err
