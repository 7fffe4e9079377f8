"""`beat crimes import` and the demo's crime data, as an operator runs them."""

from __future__ import annotations

import asyncio
import csv
import re
import shutil
from pathlib import Path

import pytest

from beat import db as beat_db
from beat.models import Crime, CrimeMonth, Force
from beat.settings import Settings
from tests.conftest import PG_URL, _truncate_postgres
from tests.integration.test_cli import query, run

REPO = Path(__file__).resolve().parents[2]
CITY = REPO / "beat" / "demo_data" / "police-uk" / "city-of-london"
DATA = REPO / "tests" / "data" / "police-uk"
LINE = re.compile(
    r"^(?P<name>\S+): (?P<rows>\d+) rows, (?P<located>\d+) located, (?P<unlocated>\d+) unlocated, "
    r"(?P<assigned>\d+) in an area \((?P<new>\d+) new, (?P<updated>\d+) updated\)$"
)


@pytest.fixture
def cli_settings(settings: Settings, monkeypatch) -> Settings:
    """The command reads its settings from the environment, as in tests/integration/test_cli.py."""
    monkeypatch.setenv("BEAT_DATA_DIR", str(settings.data_dir))
    monkeypatch.setenv("BEAT_DATABASE_URL", settings.database_url)
    monkeypatch.setenv("BEAT_KEYS_DIR", str(settings.signing_keys_dir))
    if PG_URL:

        async def clean() -> None:
            async with beat_db.db_session(settings) as ctx:
                await _truncate_postgres(ctx)

        asyncio.run(clean())
    return settings


def rows_in(path: Path) -> list[dict[str, str]]:
    with path.open(newline="") as f:
        return list(csv.DictReader(f))


def test_importing_a_folder_prints_a_line_per_file_and_twice_adds_nothing(cli_settings, demo_areas):
    assert run("areas", "sync", "city-of-london", "--source", str(demo_areas))[0] == 0

    code, out = run("crimes", "import", str(CITY))

    assert code == 0
    files = sorted(CITY.glob("*.csv"))
    lines = [LINE.match(line) for line in out.splitlines()]
    assert all(lines) and len(lines) == len(files) == 9
    for match, path in zip(lines, files, strict=True):
        rows = rows_in(path)
        assert match["name"] == str(path)
        assert int(match["rows"]) == int(match["new"]) == len(rows)
        assert int(match["unlocated"]) == sum(1 for r in rows if not r["Longitude"])
        assert int(match["assigned"]) <= int(match["located"])
    total = sum(len(rows_in(p)) for p in files)
    assert query(cli_settings, lambda: Crime.all().count()) == total

    code, out = run("crimes", "import", *map(str, files))
    assert code == 0
    assert [m["new"] for m in map(LINE.match, out.splitlines()) if m] == ["0"] * 9
    assert all(m and m["updated"] == "0" for m in map(LINE.match, out.splitlines()))
    assert query(cli_settings, lambda: Crime.all().count()) == total


def test_a_malformed_file_is_named_with_its_line_and_nothing_of_it_is_kept(
    cli_settings, demo_areas, tmp_path, capsys
):
    run("areas", "sync", "city-of-london", "--source", str(demo_areas))
    folder = tmp_path / "downloads"
    folder.mkdir()
    good = folder / "2017-02-city-of-london-street.csv"
    good.write_bytes((CITY / good.name).read_bytes())
    lines = (CITY / "2017-03-city-of-london-street.csv").read_bytes().split(b"\r\n")
    fields = lines[119].split(b",")
    fields[9] = b"Loitering"
    lines[119] = b",".join(fields)
    bad = folder / "2017-03-city-of-london-street.csv"
    bad.write_bytes(b"\r\n".join(lines))

    code, out = run("crimes", "import", str(folder))

    assert code == 1
    assert f"{bad}, line 120: unknown crime type 'Loitering'" in capsys.readouterr().err
    assert out.startswith(f"{good}: 597 rows")
    months = query(cli_settings, lambda: CrimeMonth.all().values_list("month", flat=True))
    assert months == ["2017-02"]
    assert query(cli_settings, lambda: Crime.all().count()) == 597


def test_crimes_of_a_force_not_yet_loaded_are_refused(cli_settings, capsys):
    code, _ = run("crimes", "import", str(CITY / "2017-09-city-of-london-street.csv"))
    assert code == 1
    err = capsys.readouterr().err
    assert "2017-09-city-of-london-street.csv, line 2" in err and "beat areas sync" in err
    assert query(cli_settings, lambda: Crime.all().count()) == 0


def test_stop_and_search_files_are_refused_with_their_name(cli_settings, tmp_path, capsys):
    path = tmp_path / "2019-06-greater-manchester-stop-and-search.csv"
    path.write_text(
        "Type,Date,Part of a policing operation,Policing operation,Latitude,Longitude,Gender,"
        "Age range,Self-defined ethnicity,Officer-defined ethnicity,Legislation,Object of search,"
        "Outcome,Outcome linked to object of search,Removal of more than just outer clothing\r\n"
    )
    code, _ = run("crimes", "import", str(path))
    assert code == 1
    err = capsys.readouterr().err
    assert str(path) in err and "stop-and-search files are recognised but not imported" in err


def test_api_responses_are_imported_for_the_force_named(cli_settings, tmp_path, capsys):
    response = tmp_path / "crimes.json"
    shutil.copyfile(DATA / "crime_data_mozfest.json", response)
    code, _ = run("crimes", "import", str(response))
    assert code == 1
    assert "--force" in capsys.readouterr().err

    query(cli_settings, lambda: Force.create(id="metropolitan", name="Metropolitan Police Service"))
    code, out = run("crimes", "import", "--force", "metropolitan", str(response))
    assert code == 0
    match = LINE.match(out.strip())
    assert match and (match["rows"], match["new"], match["assigned"]) == ("374", "374", "0")


def test_outcome_files_report_outcome_rows(cli_settings, demo_areas):
    run("areas", "sync", "city-of-london", "--source", str(demo_areas))
    run("crimes", "import", str(CITY / "2017-09-city-of-london-street.csv"))
    path = DATA / "2017-10-city-of-london-outcomes.csv"
    code, out = run("crimes", "import", str(path))
    assert (code, out) == (0, f"{path}: 5 outcome rows (5 new, 4 crimes updated)\n")


def test_a_missing_path_is_an_error(cli_settings, tmp_path, capsys):
    code, _ = run("crimes", "import", str(tmp_path / "nowhere"))
    assert code == 1
    assert "no such file or folder" in capsys.readouterr().err


def test_the_demo_loads_the_city_crime_months_once(cli_settings):
    code, out = run("demo", "--no-serve")
    assert code == 0
    files = sorted(CITY.glob("*.csv"))
    for path in files:
        assert f"crime data {path.name[:7]}: {len(rows_in(path))} records" in out
    total = sum(len(rows_in(p)) for p in files)
    assert query(cli_settings, lambda: Crime.all().count()) == total
    arrived = query(cli_settings, lambda: CrimeMonth.all().order_by("month").values_list())

    code, out = run("demo", "--no-serve")
    assert code == 0
    assert out.count("(0 new)") == 9
    assert "Open Government Licence v3.0" in out
    assert query(cli_settings, lambda: Crime.all().count()) == total
    assert query(cli_settings, lambda: CrimeMonth.all().order_by("month").values_list()) == arrived
