"""police.uk crime files: recognised by their content, read as checked, typed records (no database).

Street CSVs, outcomes CSVs and API JSON responses (street-level crimes, outcomes at a location)
are read. Stop-and-search files and the 2012 Easting/Northing format are recognised and refused
with a reason. Every row is checked; the first bad one raises `CrimeFileError` naming the file,
the line (CSV) or item (JSON) and what is wrong.
"""

from __future__ import annotations

import csv
import json
import re
from collections.abc import Iterable, Iterator
from enum import StrEnum
from pathlib import Path
from typing import Any, NamedTuple

from beat.errors import SourceError


class FileKind(StrEnum):
    STREET = "street"  # *-street.csv: crimes and ASB
    OUTCOMES = "outcomes"  # *-outcomes.csv
    API_CRIMES = "api"  # crimes-street / crimes-at-location / crimes-no-location responses
    API_OUTCOMES = "api-outcomes"  # outcomes-at-location responses
    STOP_AND_SEARCH = "stop-and-search"
    LEGACY_STREET = "legacy-street"  # the 2012 format, Easting/Northing


IMPORTABLE = frozenset(
    {FileKind.STREET, FileKind.OUTCOMES, FileKind.API_CRIMES, FileKind.API_OUTCOMES}
)


class CrimeFileError(SourceError):
    """A crime file is not one Beat reads, or one of its rows is malformed."""

    def __init__(self, name: str, reason: str, *, line: int | None = None, item: int | None = None):
        where = name
        if line is not None:
            where = f"{name}, line {line}"
        elif item is not None:
            where = f"{name}, item {item}"
        super().__init__(reason, location=where)
        self.file = name
        self.line = line
        self.item = item
        self.reason = reason


# ---- code lists ------------------------------------------------------------------------------

# police.uk slug -> name, as the API's crime-categories and the CSV `Crime type` column spell them.
CATEGORIES: dict[str, str] = {
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

# police.uk outcome code -> name (the API's code table).
OUTCOMES: dict[str, str] = {
    "awaiting-court-result": "Awaiting court outcome",
    "court-result-unavailable": "Court result unavailable",
    "unable-to-proceed": "Court case unable to proceed",
    "local-resolution": "Local resolution",
    "no-further-action": "Investigation complete; no suspect identified",
    "deprived-of-property": "Offender deprived of property",
    "fined": "Offender fined",
    "absolute-discharge": "Offender given absolute discharge",
    "cautioned": "Offender given a caution",
    "drugs-possession-warning": "Offender given a drugs possession warning",
    "penalty-notice-issued": "Offender given a penalty notice",
    "community-penalty": "Offender given community sentence",
    "conditional-discharge": "Offender given conditional discharge",
    "suspended-sentence": "Offender given suspended prison sentence",
    "imprisoned": "Offender sent to prison",
    "other-court-disposal": "Offender otherwise dealt with",
    "compensation": "Offender ordered to pay compensation",
    "sentenced-in-another-case": "Suspect charged as part of another case",
    "charged": "Suspect charged",
    "not-guilty": "Defendant found not guilty",
    "sent-to-crown-court": "Defendant sent to Crown Court",
    "unable-to-prosecute": "Unable to prosecute suspect",
    "formal-action-not-in-public-interest": "Formal action is not in the public interest",
    "action-taken-by-another-organisation": "Action to be taken by another organisation",
    "further-investigation-not-in-public-interest": (
        "Further investigation is not in the public interest"
    ),
    "further-action-not-in-public-interest": "Further action is not in the public interest",
    "under-investigation": "Under investigation",
    "status-update-unavailable": "Status update unavailable",
}

_NOT_WORD = re.compile(r"[^0-9a-z]+")
# Articles carry no meaning in these names, and police.uk drops them in places
# ("Offender given penalty notice" in CSVs, "... a penalty notice" in the API's table).
_ARTICLES = frozenset({"a", "an", "the"})


def _name_key(name: str) -> str:
    words = _NOT_WORD.sub(" ", name.casefold()).split()
    return " ".join(w for w in words if w not in _ARTICLES)


_CATEGORY_BY_KEY = {_name_key(name): slug for slug, name in CATEGORIES.items()}
_OUTCOME_BY_KEY = {_name_key(name): code for code, name in OUTCOMES.items()}


def category_slug(name: str) -> str | None:
    """The slug for a category name (case and spacing tolerated); None if unknown."""
    return _CATEGORY_BY_KEY.get(_name_key(name))


def category_name(slug: str) -> str | None:
    return CATEGORIES.get(slug)


def outcome_code(name: str) -> str | None:
    """The code for an outcome name, tolerating case, spacing, punctuation and articles."""
    return _OUTCOME_BY_KEY.get(_name_key(name))


def outcome_name(code: str) -> str | None:
    return OUTCOMES.get(code)


# ---- records ---------------------------------------------------------------------------------


class CrimeRow(NamedTuple):
    """One crime or ASB record, from a street CSV row or an API crime object."""

    line: int  # CSV line number, or 1-based item number in a JSON response
    persistent_id: str  # 64 hex, "" for ASB and BTP
    api_id: int | None  # the API's (unstable) numeric id; None from CSVs
    month: str  # YYYY-MM
    force_name: str  # CSV `Reported by`; "" in API records (the caller knows the force)
    category: str  # slug
    lng: float | None
    lat: float | None
    location: str  # "On or near ...", "" when unlocated
    location_id: int | None  # the API's snap-point id
    location_type: str  # Force | BTP
    lsoa_code: str
    lsoa_name: str
    outcome: str  # outcome code, "" when none
    # When the outcome was recorded: the API says; street CSVs don't, so the crime's month
    # stands in (the outcome can be no older than the crime).
    outcome_month: str

    @property
    def located(self) -> bool:
        return self.lat is not None


class OutcomeRow(NamedTuple):
    """One outcome of one crime, from an outcomes CSV or an outcomes-at-location item."""

    line: int
    persistent_id: str
    month: str  # when the outcome was recorded
    force_name: str  # "" in API items
    outcome: str  # code


# ---- field checks ----------------------------------------------------------------------------

_MONTH = re.compile(r"\d{4}-(0[1-9]|1[0-2])")
_HEX64 = re.compile(r"[0-9a-f]{64}")
BTP_NAME = "British Transport Police"

LOCATION_MAX, LSOA_CODE_MAX, LSOA_NAME_MAX = 200, 12, 100  # the Crime columns' widths


def valid_month(value: str) -> bool:
    return _MONTH.fullmatch(value) is not None


def _text(value: str, limit: int) -> str:
    # NUL is never meaningful here and PostgreSQL cannot store it.
    if "\x00" in value:
        value = value.replace("\x00", "")
    return value.strip()[:limit]


class _Bad(Exception):
    """A field check failed; turned into a CrimeFileError with the file and line."""


def _month(value: str, what: str = "month") -> str:
    value = value.strip()
    if _MONTH.fullmatch(value) is None:
        raise _Bad(f"{what} {value!r} is not a YYYY-MM month")
    return value


def _crime_id(value: str, *, required: bool) -> str:
    value = value.strip().lower()
    if not value:
        if required:
            raise _Bad("the crime id is missing")
        return ""
    if _HEX64.fullmatch(value) is None:
        raise _Bad(f"crime id {value[:80]!r} is not 64 hexadecimal characters")
    return value


def _number(value: object) -> float | None:
    """A coordinate as police.uk writes it (a string; a number in some clients' output)."""
    if isinstance(value, str):
        # float() allows surrounding spaces itself, and "nan"/"inf", which fail the range check.
        return float(value) if value and not value.isspace() else None
    if isinstance(value, int | float) and not isinstance(value, bool):
        return float(value)
    if value is None:
        return None
    raise ValueError(value)


def _point(lng_raw: object, lat_raw: object) -> tuple[float | None, float | None]:
    """Longitude and latitude as floats, both or neither; range-checked."""
    try:
        lng, lat = _number(lng_raw), _number(lat_raw)
    except ValueError:
        raise _Bad(f"coordinates {lng_raw!r}, {lat_raw!r} are not numbers") from None
    if lng is None and lat is None:
        return None, None
    if lng is None or lat is None:
        raise _Bad("only one of the two coordinates is given")
    if not (-90.0 <= lat <= 90.0 and -180.0 <= lng <= 180.0):
        raise _Bad(f"coordinates (longitude {lng}, latitude {lat}) are out of range")
    return lng, lat


class _Codes:
    """Category and outcome lookups, remembered per raw spelling (a file repeats a few dozen)."""

    def __init__(self) -> None:
        self.categories: dict[str, str] = {}
        self.outcomes: dict[str, str] = {}

    def category_from_name(self, raw: str) -> str:
        slug = self.categories.get(raw)
        if slug is None:
            slug = category_slug(raw)
            if slug is None:
                raise _Bad(f"unknown crime type {raw.strip()!r}")
            self.categories[raw] = slug
        return slug

    def outcome_from_name(self, raw: str) -> str:
        code = self.outcomes.get(raw)
        if code is None:
            code = outcome_code(raw)
            if code is None:
                raise _Bad(f"unknown outcome {raw.strip()!r}")
            self.outcomes[raw] = code
        return code


# ---- recognising a file ----------------------------------------------------------------------

STREET_HEADER = (
    "crime id", "month", "reported by", "falls within", "longitude", "latitude", "location",
    "lsoa code", "lsoa name", "crime type", "last outcome category", "context",
)  # fmt: skip
OUTCOMES_HEADER = (
    "crime id", "month", "reported by", "falls within", "longitude", "latitude", "location",
    "lsoa code", "lsoa name", "outcome type",
)  # fmt: skip

_SNIFF_BYTES = 64 * 1024


def _header_kind(cells: list[str]) -> FileKind | None:
    names = tuple(" ".join(c.replace("\ufeff", "").split()).casefold() for c in cells)
    if names == STREET_HEADER:
        return FileKind.STREET
    if names == OUTCOMES_HEADER:
        return FileKind.OUTCOMES
    if "easting" in names and "northing" in names:
        return FileKind.LEGACY_STREET
    if names[:2] == ("type", "date") and "object of search" in names:
        return FileKind.STOP_AND_SEARCH
    return None


def _json_kind(items: list[Any]) -> FileKind | None:
    if not items:
        return FileKind.API_CRIMES  # an empty month or area: nothing to import, nothing wrong
    first = items[0]
    if not isinstance(first, dict):
        return None
    if isinstance(first.get("crime"), dict) and isinstance(first.get("category"), dict):
        return FileKind.API_OUTCOMES
    if "involved_person" in first or "object_of_search" in first:
        return FileKind.STOP_AND_SEARCH
    if "category" in first and "month" in first and "persistent_id" in first:
        return FileKind.API_CRIMES
    return None


def _load_json(path: Path, name: str) -> Any:
    try:
        with path.open("rb") as f:
            return json.load(f)
    except json.JSONDecodeError as exc:
        raise CrimeFileError(name, f"not valid JSON: {exc.msg}", line=exc.lineno) from None
    except UnicodeDecodeError:
        raise CrimeFileError(name, "not valid JSON: the file is not UTF-8 text") from None


def _first_char(path: Path) -> str:
    with path.open("rb") as f:
        head = f.read(_SNIFF_BYTES)
    return head.decode("utf-8", errors="replace").lstrip("\ufeff \t\r\n")[:1]


def refusal(kind: FileKind) -> str | None:
    """Why a recognised file is not imported, or None for the kinds Beat imports."""
    if kind == FileKind.STOP_AND_SEARCH:
        return (
            "stop-and-search files are recognised but not imported: Beat keeps street crimes "
            "and outcomes only"
        )
    if kind == FileKind.LEGACY_STREET:
        return (
            "this is the 2012 police.uk format (Easting/Northing, no crime ids), which Beat "
            "does not import: download the month again from data.police.uk"
        )
    return None


class CrimeFile:
    """An opened crime file of a known kind; read its records with `crimes()` or `outcomes()`."""

    def __init__(self, path: Path, kind: FileKind, items: list[Any] | None) -> None:
        self.path = path
        self.name = str(path)
        self.kind = kind
        self._items = items

    @property
    def is_json(self) -> bool:
        return self._items is not None

    def units(self) -> int:
        """How many progress steps reading takes: lines of a CSV, items of a JSON response."""
        if self._items is not None:
            return len(self._items)
        lines = 0
        last = b"\n"
        with self.path.open("rb") as f:
            while chunk := f.read(1 << 20):
                lines += chunk.count(b"\n")
                last = chunk[-1:]
        return lines + (0 if last == b"\n" else 1)

    def crimes(self) -> Iterator[CrimeRow]:
        if self.kind == FileKind.STREET:
            return _street_rows(self.path, self.name)
        if self.kind == FileKind.API_CRIMES and self._items is not None:
            return api_crimes(self._items, self.name)
        raise ValueError(f"{self.kind} files hold no crimes")

    def outcomes(self) -> Iterator[OutcomeRow]:
        if self.kind == FileKind.OUTCOMES:
            return _outcome_rows(self.path, self.name)
        if self.kind == FileKind.API_OUTCOMES and self._items is not None:
            return api_outcomes(self._items, self.name)
        raise ValueError(f"{self.kind} files hold no outcomes")


def sniff(path: Path) -> FileKind:
    """The kind of a file, from its header line or its JSON shape; raises if it is none of ours."""
    return _open(path).kind


def open_crime_file(path: Path) -> CrimeFile:
    """Recognise a file and get it ready to read; refuses kinds Beat does not import."""
    opened = _open(path)
    reason = refusal(opened.kind)
    if reason:
        raise CrimeFileError(opened.name, reason)
    return opened


def _open(path: Path) -> CrimeFile:
    name = str(path)
    try:
        first = _first_char(path)
    except OSError as exc:
        raise CrimeFileError(name, f"cannot be read ({exc.strerror or exc})") from None
    if first == "":
        raise CrimeFileError(name, "the file is empty", line=1)
    if first in "[{":
        payload = _load_json(path, name)
        if isinstance(payload, dict):
            raise CrimeFileError(
                name,
                "a JSON object, not a list: Beat reads responses of the street-level crime "
                "and outcomes-at-location endpoints (JSON arrays)",
            )
        kind = _json_kind(payload)
        if kind is None:
            raise CrimeFileError(
                name, "a JSON array, but not of police.uk crime or outcome objects", item=1
            )
        return CrimeFile(path, kind, payload)
    try:
        with path.open(encoding="utf-8-sig", newline="") as f:
            header = next(csv.reader(f), [])
    except UnicodeDecodeError:
        raise CrimeFileError(name, "not UTF-8 text", line=1) from None
    except csv.Error as exc:
        raise CrimeFileError(name, f"not CSV ({exc})", line=1) from None
    kind = _header_kind(header)
    if kind is None:
        shown = ",".join(header)[:120]
        raise CrimeFileError(
            name, f"not a police.uk street, outcomes or stop-and-search file (header {shown!r})",
            line=1,
        )  # fmt: skip
    return CrimeFile(path, kind, None)


# ---- CSV -------------------------------------------------------------------------------------


def _csv_rows(path: Path, name: str, width: int) -> Iterator[tuple[int, list[str]]]:
    """(line, fields) for each data row, after the header; blank lines skipped."""
    with path.open(encoding="utf-8-sig", newline="") as f:
        reader = csv.reader(f)
        line = 1
        try:
            next(reader)
            for row in reader:
                line = reader.line_num
                if not row:
                    continue
                if len(row) != width:
                    raise CrimeFileError(
                        name, f"expected {width} fields, found {len(row)}", line=line
                    )
                yield line, row
        except UnicodeDecodeError:
            raise CrimeFileError(name, "not UTF-8 text", line=line + 1) from None
        except csv.Error as exc:
            raise CrimeFileError(name, f"unreadable CSV ({exc})", line=reader.line_num) from None


def _street_rows(path: Path, name: str) -> Iterator[CrimeRow]:
    codes = _Codes()
    months: set[str] = set()
    for line, f in _csv_rows(path, name, len(STREET_HEADER)):
        try:
            crime_id, month, reported_by, falls_within = f[0], f[1].strip(), f[2], f[3]
            if month not in months:
                months.add(_month(month))
            force_name = _text(reported_by or falls_within, 200)
            if not force_name:
                raise _Bad("neither `Reported by` nor `Falls within` names a force")
            lng, lat = _point(f[4], f[5])
            outcome = codes.outcome_from_name(f[10]) if f[10].strip() else ""
            # Unlocated rows read "No Location" (street) or "No location" (outcomes): kept as "".
            location = _text(f[6], LOCATION_MAX) if lat is not None else ""
            yield CrimeRow(
                line=line,
                persistent_id=_crime_id(crime_id, required=False),
                api_id=None,
                month=month,
                force_name=force_name,
                category=codes.category_from_name(f[9]),
                lng=lng,
                lat=lat,
                location=location,
                location_id=None,
                location_type="BTP" if force_name.casefold() == BTP_NAME.casefold() else "Force",
                lsoa_code=_text(f[7], LSOA_CODE_MAX),
                lsoa_name=_text(f[8], LSOA_NAME_MAX),
                outcome=outcome,
                outcome_month=month if outcome else "",
            )
        except _Bad as exc:
            raise CrimeFileError(name, str(exc), line=line) from None


def _outcome_rows(path: Path, name: str) -> Iterator[OutcomeRow]:
    codes = _Codes()
    months: set[str] = set()
    for line, f in _csv_rows(path, name, len(OUTCOMES_HEADER)):
        try:
            month = f[1].strip()
            if month not in months:
                months.add(_month(month))
            _point(f[4], f[5])  # checked, not kept: the crime has its own point
            yield OutcomeRow(
                line=line,
                persistent_id=_crime_id(f[0], required=True),
                month=month,
                force_name=_text(f[2] or f[3], 200),
                outcome=codes.outcome_from_name(f[9]),
            )
        except _Bad as exc:
            raise CrimeFileError(name, str(exc), line=line) from None


# ---- API JSON --------------------------------------------------------------------------------


def _str_field(item: dict[str, Any], key: str) -> str:
    value = item.get(key)
    if value is None:
        return ""
    if not isinstance(value, str):
        raise _Bad(f"`{key}` is not a string")
    return value


def _int_field(value: object, what: str, *, required: bool) -> int | None:
    if value is None and not required:
        return None
    if isinstance(value, bool) or not isinstance(value, int):
        raise _Bad(f"{what} is not an integer")
    return value


def _api_crime(item: object, index: int, codes: _Codes) -> CrimeRow:
    if not isinstance(item, dict):
        raise _Bad("not a crime object")
    slug = item.get("category")
    if not isinstance(slug, str) or slug not in CATEGORIES:
        raise _Bad(f"unknown crime category {slug!r}")
    month = _month(_str_field(item, "month"))
    api_id = _int_field(item.get("id"), "`id`", required=True)
    lng = lat = None
    location = ""
    location_id = None
    place = item.get("location")
    if place is not None:
        if not isinstance(place, dict):
            raise _Bad("`location` is not an object")
        lng, lat = _point(place.get("longitude"), place.get("latitude"))
        street = place.get("street")
        if isinstance(street, dict):
            location_id = _int_field(street.get("id"), "`location.street.id`", required=False)
            location = _text(_str_field(street, "name"), LOCATION_MAX)
    outcome = outcome_month = ""
    status = item.get("outcome_status")
    if status is not None:
        if not isinstance(status, dict):
            raise _Bad("`outcome_status` is not an object")
        outcome = codes.outcome_from_name(_str_field(status, "category"))
        outcome_month = _month(_str_field(status, "date"), "outcome date")
    location_type = item.get("location_type") or "Force"
    if location_type not in ("Force", "BTP"):
        raise _Bad(f"unknown location_type {location_type!r}")
    return CrimeRow(
        line=index,
        persistent_id=_crime_id(_str_field(item, "persistent_id"), required=False),
        api_id=api_id,
        month=month,
        force_name="",
        category=slug,
        lng=lng,
        lat=lat,
        location=location if lat is not None else "",
        location_id=location_id,
        location_type=location_type,
        lsoa_code="",
        lsoa_name="",
        outcome=outcome,
        outcome_month=outcome_month,
    )


def api_crimes(items: Iterable[object], name: str) -> Iterator[CrimeRow]:
    """Check and convert the crime objects of a street-level crimes response."""
    codes = _Codes()
    for index, item in enumerate(items, start=1):
        try:
            yield _api_crime(item, index, codes)
        except _Bad as exc:
            raise CrimeFileError(name, str(exc), item=index) from None


def api_outcomes(items: Iterable[object], name: str) -> Iterator[OutcomeRow]:
    """Check and convert the items of an outcomes-at-location response."""
    codes = _Codes()
    for index, item in enumerate(items, start=1):
        try:
            if not isinstance(item, dict):
                raise _Bad("not an outcome object")
            category, crime = item.get("category"), item.get("crime")
            if not isinstance(category, dict) or not isinstance(crime, dict):
                raise _Bad("an outcome needs a `category` object and a `crime` object")
            code = category.get("code")
            if not isinstance(code, str) or code not in OUTCOMES:
                code = codes.outcome_from_name(_str_field(category, "name"))
            yield OutcomeRow(
                line=index,
                persistent_id=_crime_id(_str_field(crime, "persistent_id"), required=True),
                month=_month(_str_field(item, "date"), "outcome date"),
                force_name="",
                outcome=code,
            )
        except _Bad as exc:
            raise CrimeFileError(name, str(exc), item=index) from None
