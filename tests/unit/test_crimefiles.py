"""Reading police.uk crime files: recognised by content, every row checked, named errors."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest

from beat import crimefiles
from beat.crimefiles import CrimeFileError, FileKind

REPO = Path(__file__).resolve().parents[2]
CITY = REPO / "beat" / "demo_data" / "police-uk" / "city-of-london"
DATA = REPO / "tests" / "data" / "police-uk"
SEPTEMBER = CITY / "2017-09-city-of-london-street.csv"
FEBRUARY = CITY / "2017-02-city-of-london-street.csv"
MOZFEST = DATA / "crime_data_mozfest.json"

# From the police.uk reference (categories section): slug -> name, as the API and CSVs spell them.
REFERENCE_CATEGORIES = {
    "anti-social-behaviour": "Anti-social behaviour",
    "bicycle-theft": "Bicycle theft",
    "burglary": "Burglary",
    "criminal-damage-arson": "Criminal damage and arson",
    "drugs": "Drugs",
    "other-theft": "Other theft",
    "possession-of-weapons": "Possession of weapons",
    "public-order": "Public order",
    "robbery": "Robbery",
    "shoplifting": "Shoplifting",
    "theft-from-the-person": "Theft from the person",
    "vehicle-crime": "Vehicle crime",
    "violent-crime": "Violence and sexual offences",
    "other-crime": "Other crime",
}

STREET_HEADER = (
    "Crime ID,Month,Reported by,Falls within,Longitude,Latitude,Location,LSOA code,LSOA name,"
    "Crime type,Last outcome category,Context"
)
STOP_HEADER = (
    "Type,Date,Part of a policing operation,Policing operation,Latitude,Longitude,Gender,"
    "Age range,Self-defined ethnicity,Officer-defined ethnicity,Legislation,Object of search,"
    "Outcome,Outcome linked to object of search,Removal of more than just outer clothing"
)
CRIME_ID = "1f5905ec6f56b30b2c66fe15db987a840e8d9c106edfada7e5f46fe46437f6e9"
GOOD_ROW = (
    f"{CRIME_ID},2017-09,City of London Police,City of London Police,-0.113767,51.517372,"
    "On or near Stone Buildings,E01000914,Camden 028B,Bicycle theft,Status update unavailable,"
)


def write(path: Path, *lines: str) -> Path:
    path.write_bytes(("\r\n".join(lines) + "\r\n").encode())
    return path


def test_categories_map_both_ways_for_all_fourteen():
    assert crimefiles.CATEGORIES == REFERENCE_CATEGORIES
    for slug, name in REFERENCE_CATEGORIES.items():
        assert crimefiles.category_slug(name) == slug
        assert crimefiles.category_name(slug) == name
    assert crimefiles.category_slug("  violence AND sexual  offences ") == "violent-crime"
    assert crimefiles.category_slug("Public disorder and weapons") is None


@pytest.mark.parametrize(
    ("written", "code"),
    [
        ("Offender given penalty notice", "penalty-notice-issued"),
        ("Offender given a penalty notice", "penalty-notice-issued"),
        ("offender given  a Penalty Notice ", "penalty-notice-issued"),
        ("Investigation complete; no suspect identified", "no-further-action"),
        ("Investigation complete no suspect identified", "no-further-action"),
        ("Offender given a drugs possession warning", "drugs-possession-warning"),
        ("Under investigation", "under-investigation"),
        ("Suspect charged", "charged"),
        ("Suspect charged as part of another case", "sentenced-in-another-case"),
        ("Court result unavailable", "court-result-unavailable"),
    ],
)
def test_outcome_wordings_are_normalised_to_codes(written, code):
    assert crimefiles.outcome_code(written) == code


def test_every_outcome_name_reads_back_to_its_code_and_no_two_names_collide():
    for code, name in crimefiles.OUTCOMES.items():
        assert crimefiles.outcome_code(name) == code
        assert crimefiles.outcome_name(code) == name
    assert len(crimefiles.OUTCOMES) == 28
    assert crimefiles.outcome_code("Offender given a medal") is None


@pytest.mark.parametrize(
    ("source", "kind"),
    [
        (SEPTEMBER, FileKind.STREET),
        (DATA / "2017-10-city-of-london-outcomes.csv", FileKind.OUTCOMES),
        (MOZFEST, FileKind.API_CRIMES),
        (DATA / "all-crime_1.json", FileKind.API_CRIMES),
    ],
)
def test_files_are_recognised_by_content_not_by_name(tmp_path, source, kind):
    disguised = tmp_path / "download.txt"
    disguised.write_bytes(source.read_bytes())
    assert crimefiles.sniff(disguised) == kind


def test_api_outcomes_and_stop_and_search_are_recognised(tmp_path):
    crime = json.loads(MOZFEST.read_text())[5]
    outcomes = [
        {"category": {"code": "local-resolution", "name": "Local resolution"}, "date": "2014-09",
         "person_id": None, "crime": {k: v for k, v in crime.items() if k != "outcome_status"}},
    ]  # fmt: skip
    assert crimefiles.sniff(write(tmp_path / "a.json", json.dumps(outcomes))) == (
        FileKind.API_OUTCOMES
    )
    stop = write(
        tmp_path / "s.csv",
        STOP_HEADER,
        "Person search,2019-05-31T23:01:00+00:00,False,,53.407704,-2.162284,Female,10-17,"
        "White,White,Misuse of Drugs Act 1971 (section 23),Controlled drugs,"
        "A no further action disposal,,False",
    )
    assert crimefiles.sniff(stop) == FileKind.STOP_AND_SEARCH
    with pytest.raises(
        CrimeFileError, match="stop-and-search files are recognised but not imported"
    ):
        crimefiles.open_crime_file(stop)


def test_the_2012_easting_northing_format_is_refused_clearly(tmp_path):
    legacy = write(
        tmp_path / "2012-01-city-of-london-street.csv",
        "Month,Reported by,Falls within,Easting,Northing,Location,Crime type,Context",
        "2012-01,City of London Police,City of London Police,532500,181200,On or near X,Burglary,",
    )
    assert crimefiles.sniff(legacy) == FileKind.LEGACY_STREET
    with pytest.raises(CrimeFileError) as caught:
        crimefiles.open_crime_file(legacy)
    assert "2012 police.uk format" in str(caught.value)
    assert caught.value.file == str(legacy)


@pytest.mark.parametrize(
    ("content", "reason"),
    [
        ("", "empty"),
        ("name,age\r\nbob,3\r\n", "not a police.uk"),
        ('{"crime": {}, "outcomes": []}', "a JSON object, not a list"),
        ('[{"hello": 1}]', "not of police.uk crime or outcome objects"),
        ('[{"category": "drugs", "month": "2014-08"', "not valid JSON"),
    ],
)
def test_files_that_are_none_of_ours_are_refused(tmp_path, content, reason):
    path = tmp_path / "x.csv"
    path.write_text(content)
    with pytest.raises(CrimeFileError, match=reason):
        crimefiles.open_crime_file(path)


def test_a_street_file_reads_as_typed_records_matching_a_plain_csv_read():
    rows = list(crimefiles.open_crime_file(SEPTEMBER).crimes())
    with SEPTEMBER.open(newline="") as f:
        plain = list(csv.DictReader(f))
    assert len(rows) == len(plain) == 463
    for row, raw in zip(rows, plain, strict=True):
        assert row.persistent_id == raw["Crime ID"]
        assert row.month == raw["Month"]
        assert crimefiles.category_name(row.category) == raw["Crime type"]
        if raw["Longitude"]:
            # Street CSVs give longitude first.
            assert (row.lng, row.lat) == (float(raw["Longitude"]), float(raw["Latitude"]))
            assert row.location == raw["Location"]
        else:
            assert raw["Location"] == "No Location"
            assert (row.lng, row.lat, row.located, row.location) == (None, None, False, "")
    assert sum(1 for r in rows if not r.located) == 53


def test_asb_rows_have_no_id_and_no_outcome():
    rows = list(crimefiles.open_crime_file(FEBRUARY).crimes())
    asb = [r for r in rows if r.category == "anti-social-behaviour"]
    assert len(asb) == 146
    assert all(r.persistent_id == "" and r.outcome == "" for r in asb)
    assert all(r.persistent_id and r.outcome for r in rows if r.category != "anti-social-behaviour")


def test_api_records_read_with_strings_as_floats_and_old_outcome_wording():
    rows = list(crimefiles.open_crime_file(MOZFEST).crimes())
    raw = json.loads(MOZFEST.read_text())
    assert len(rows) == len(raw) == 374
    for row, item in zip(rows, raw, strict=True):
        assert row.api_id == item["id"]
        assert row.lat == float(item["location"]["latitude"])
        assert row.lng == float(item["location"]["longitude"])
        assert row.location_type == item["location_type"]
    penalty = [r for r in rows if r.outcome == "penalty-notice-issued"]
    assert len(penalty) == 8
    assert all(r.outcome_month == "2014-08" for r in penalty)


def test_a_bom_and_blank_lines_are_tolerated(tmp_path):
    path = tmp_path / "street.csv"
    path.write_bytes(b"\xef\xbb\xbf" + (STREET_HEADER + "\r\n" + GOOD_ROW + "\r\n\r\n").encode())
    assert crimefiles.sniff(path) == FileKind.STREET
    assert [r.persistent_id for r in crimefiles.open_crime_file(path).crimes()] == [CRIME_ID]


def _bad(cells: dict[int, str]) -> str:
    fields = GOOD_ROW.split(",")
    for i, v in cells.items():
        fields[i] = v
    return ",".join(fields)


@pytest.mark.parametrize(
    ("bad_row", "reason"),
    [
        (_bad({1: "2017-13"}), "'2017-13' is not a YYYY-MM month"),
        (_bad({1: "Sept 2017"}), "is not a YYYY-MM month"),
        (_bad({0: "abc123"}), "not 64 hexadecimal characters"),
        (_bad({9: "Jaywalking"}), "unknown crime type 'Jaywalking'"),
        (_bad({10: "Sent to the Tower"}), "unknown outcome 'Sent to the Tower'"),
        (_bad({4: "-200.5"}), "out of range"),
        (_bad({5: "north"}), "are not numbers"),
        (_bad({5: ""}), "only one of the two coordinates"),
        (_bad({2: "", 3: ""}), "names a force"),
        (GOOD_ROW + ",extra", "expected 12 fields, found 13"),
        (GOOD_ROW.rsplit(",", 3)[0], "expected 12 fields, found 9"),
    ],
)
def test_a_bad_row_names_the_file_the_line_and_the_reason(tmp_path, bad_row, reason):
    path = write(tmp_path / "street.csv", STREET_HEADER, GOOD_ROW, GOOD_ROW, bad_row, GOOD_ROW)
    with pytest.raises(CrimeFileError) as caught:
        list(crimefiles.open_crime_file(path).crimes())
    error = caught.value
    assert (error.file, error.line) == (str(path), 4)
    assert reason in error.reason
    assert f"{path}, line 4: " in str(error)


def test_a_truncated_file_fails_at_its_last_line(tmp_path):
    data = SEPTEMBER.read_bytes()
    path = tmp_path / "street.csv"
    path.write_bytes(data[: len(data) // 2])
    lines = path.read_bytes().count(b"\n") + 1
    with pytest.raises(CrimeFileError) as caught:
        list(crimefiles.open_crime_file(path).crimes())
    assert caught.value.line == lines
    assert "fields" in caught.value.reason


def test_bad_json_names_its_line(tmp_path):
    text = MOZFEST.read_text()
    path = tmp_path / "cut.json"
    path.write_text(text[:5000])
    with pytest.raises(CrimeFileError) as caught:
        crimefiles.open_crime_file(path)
    assert "not valid JSON" in caught.value.reason
    assert caught.value.line == text[:5000].count("\n") + 1


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        ({"category": "jaywalking"}, "unknown crime category 'jaywalking'"),
        ({"month": "2014-8"}, "not a YYYY-MM month"),
        ({"persistent_id": "xyz"}, "not 64 hexadecimal"),
        ({"id": "35058088"}, "`id` is not an integer"),
        ({"location": {"latitude": "91.5", "longitude": "0.1"}}, "out of range"),
        ({"outcome_status": {"category": "Knighted", "date": "2014-08"}}, "unknown outcome"),
    ],
)
def test_a_bad_api_record_names_its_item(tmp_path, change, reason):
    items = json.loads(MOZFEST.read_text())[:10]
    items[6] = {**items[6], **change}
    path = write(tmp_path / "api.json", json.dumps(items))
    with pytest.raises(CrimeFileError) as caught:
        list(crimefiles.open_crime_file(path).crimes())
    assert caught.value.item == 7
    assert reason in caught.value.reason


def test_api_records_without_a_location_are_kept_unlocated():
    item = {**json.loads(MOZFEST.read_text())[0], "location": None, "location_type": None}
    (row,) = crimefiles.api_crimes([item], "response")
    assert (row.located, row.lat, row.lng, row.location, row.location_type) == (
        False, None, None, "", "Force",
    )  # fmt: skip


def test_outcomes_rows_need_a_crime_id_and_a_known_outcome(tmp_path):
    good = (DATA / "2017-10-city-of-london-outcomes.csv").read_text().splitlines()
    rows = list(crimefiles.open_crime_file(DATA / "2017-10-city-of-london-outcomes.csv").outcomes())
    assert [r.outcome for r in rows] == [
        "no-further-action", "charged", "penalty-notice-issued", "unable-to-prosecute",
        "local-resolution",
    ]  # fmt: skip
    missing_id = write(tmp_path / "o.csv", good[0], good[1], "," + good[2].split(",", 1)[1])
    with pytest.raises(CrimeFileError) as caught:
        list(crimefiles.open_crime_file(missing_id).outcomes())
    assert (caught.value.line, caught.value.reason) == (3, "the crime id is missing")
