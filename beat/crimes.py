"""Crime data: importing police.uk files and API responses, assigning crimes to neighbourhoods,
and keeping the monthly statistics (per area, per force) and the data months up to date.

Rules, in one place:

- One transaction per file (or API response): a bad row anywhere imports nothing of it.
- Natural key `Crime.row_key`: `pid:<persistent id>` (`pid:<persistent id>:<n>` for its n-th
  listing: police.uk lists a few crimes twice under one id, with two API ids, and counts both);
  `api:<id>` for API records without one; `csv:<force>:<month>:<n>` for the n-th id-less row
  (ASB, BTP) of a force's month in a street CSV.
- A street CSV is the whole of its force's month: its id-less rows replace that month's as a set
  (two identical ASB rows stay two, a re-import doubles nothing), and crimes of that month the
  file no longer lists are removed. API imports only add and update, and skip id-less records of
  a month a street CSV has already supplied (they would be the CSV's ASB rows a second time).
  Mixing the two for one force's month otherwise works: both key crimes by persistent id.
- The force of a CSV row is its `Reported by` name matched to a loaded Force (case and `&`/`and`
  tolerated); an unknown force stops the import: load it with `beat areas sync` first. British
  Transport Police is the one exception: not a police.uk force, its rows are kept force-less.
- A located crime belongs to the live neighbourhood of its force whose boundary covers its point
  (on a shared edge, the smaller area); a force-less crime to any force's. `reassign_force` redoes
  this after boundaries change.
- `Crime.outcome` is the newest known outcome: a record's own status unless the stored one is
  newer, then any outcomes-file entry at least as new. Street CSVs give no outcome date, so the
  crime's month stands in. Outcomes files add CrimeOutcome rows and never create crimes.
- AreaCrimeStat, ForceCrimeStat and CrimeMonth are recomputed for the (area, month) and
  (force, month) pairs an import touched, in its transaction; CrimeMonth.arrived_at is set once.
  Feed versions are bumped for areas whose statistics changed, and for all of a force's areas
  when one of its months first arrives.
"""

from __future__ import annotations

import functools
import hashlib
import json
import logging
import re
from collections import defaultdict
from collections.abc import Awaitable, Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from itertools import islice
from pathlib import Path
from typing import Any

import numpy as np
import shapely
from shapely.geometry import shape
from shapely.strtree import STRtree
from tortoise.backends.base.client import BaseDBAsyncClient
from tortoise.exceptions import IntegrityError
from tortoise.transactions import in_transaction

from beat import feed_versions
from beat.crimefiles import (
    BTP_NAME,
    CrimeFile,
    CrimeFileError,
    CrimeRow,
    FileKind,
    OutcomeRow,
    api_crimes,
    open_crime_file,
)
from beat.errors import Conflict, SourceError
from beat.models import (
    AreaCrimeStat,
    CrimeMonth,
    CrimeOutcome,
    CrimeSource,
    Force,
    ForceCrimeStat,
    Neighbourhood,
)

log = logging.getLogger(__name__)

Progress = Callable[[int, int], None]

BATCH = 20000  # rows parsed, assigned and written together
IN_CHUNK = 500  # values per SQL IN (...) list, under every driver's parameter limit
BTP_KEY = "btp"  # the force part of id-less BTP rows' keys


@dataclass(frozen=True)
class ImportSummary:
    """What one file or API response did to the database."""

    name: str
    kind: str
    rows: int = 0
    located: int = 0
    unlocated: int = 0
    assigned: int = 0  # located rows inside a neighbourhood
    created: int = 0  # new crimes (or, for outcomes, new outcome entries)
    updated: int = 0  # crimes changed
    removed: int = 0  # crimes a street CSV no longer lists
    skipped: int = 0  # API records without an id in a month a street CSV supplied
    force_id: str | None = None
    months: tuple[str, ...] = ()


@dataclass(frozen=True)
class ReassignSummary:
    force_id: str
    crimes: int  # located crimes looked at
    moved: int  # crimes whose neighbourhood changed


# ---- SQL helpers -----------------------------------------------------------------------------
# The hot path writes through the connection with executemany, not per-row ORM objects. Every
# query below is assembled from constants and `?` placeholders only (hence the S608 waivers).


def _sql(conn: BaseDBAsyncClient, query: str) -> str:
    """Our queries use `?`; asyncpg wants `$1, $2, ...`."""
    if conn.capabilities.dialect != "postgres":
        return query
    count = 0

    def number(_: re.Match[str]) -> str:
        nonlocal count
        count += 1
        return f"${count}"

    return re.sub(r"\?", number, query)


def _chunks(values: Sequence[Any], size: int = IN_CHUNK) -> Iterator[Sequence[Any]]:
    for start in range(0, len(values), size):
        yield values[start : start + size]


def _marks(n: int) -> str:
    return ",".join("?" * n)


CRIME_COLUMNS = (
    "force_id", "month", "persistent_id", "api_id", "category", "lat", "lng", "location",
    "location_id", "location_type", "lsoa_code", "lsoa_name", "outcome", "outcome_month",
    "neighbourhood_id",
)  # fmt: skip
_INSERT_CRIME = (
    f"INSERT INTO crime (row_key, {', '.join(CRIME_COLUMNS)}, source_id) "  # noqa: S608
    f"VALUES ({_marks(len(CRIME_COLUMNS) + 2)})"
)
_UPDATE_CRIME = (
    f"UPDATE crime SET {', '.join(f'{c} = ?' for c in CRIME_COLUMNS)}, source_id = ? WHERE id = ?"  # noqa: S608
)


# ---- areas: point in boundary, vectorised ----------------------------------------------------


class _AreaIndex:
    """Live neighbourhood boundaries in an STRtree, queried a batch of points at a time."""

    def __init__(self, rows: Iterable[tuple[int, Any]]) -> None:
        ids: list[int] = []
        geoms: list[Any] = []
        for area_id, geojson in rows:
            try:
                geom = shape(geojson)
                if not geom.is_valid:
                    geom = shapely.make_valid(geom)
            except (ValueError, TypeError, KeyError, AttributeError, shapely.errors.GEOSException):
                log.warning("skipping unreadable boundary", extra={"neighbourhood_id": area_id})
                continue
            if geom.is_empty:
                continue
            ids.append(area_id)
            geoms.append(geom)
        self.ids = ids
        self.id_array = np.asarray(ids, dtype=np.int64)
        by_size = sorted(range(len(ids)), key=lambda i: (geoms[i].area, ids[i]))
        self.rank = np.empty(len(ids), dtype=np.int64)
        self.rank[by_size] = np.arange(len(ids))
        self.tree = STRtree(geoms) if geoms else None

    def assign(self, lngs: Sequence[float], lats: Sequence[float]) -> list[int | None]:
        """The neighbourhood id covering each point; on a shared edge the smaller area."""
        if self.tree is None or not lngs:
            return [None] * len(lngs)
        points = shapely.points(np.asarray(lngs, dtype=float), np.asarray(lats, dtype=float))
        point, area = self.tree.query(points, predicate="intersects")
        # Sort hits by point, then by the areas' rank (smallest first); keep each point's first.
        order = np.lexsort((self.rank[area], point))
        point, area = point[order], area[order]
        first = np.unique(point, return_index=True)[1]
        found = np.full(len(lngs), -1, dtype=np.int64)
        found[point[first]] = self.id_array[area[first]]
        return [None if i < 0 else i for i in found.tolist()]


async def _area_index(force_id: str | None) -> _AreaIndex:
    """A force's live areas; for force-less (BTP) crimes, every force's."""
    query = Neighbourhood.filter(retired_at=None, boundary__isnull=False)
    if force_id is not None:
        query = query.filter(force_id=force_id)
    return _AreaIndex(await query.values_list("id", "boundary"))


# ---- forces ----------------------------------------------------------------------------------


def _force_key(name: str) -> str:
    return " ".join(name.casefold().replace("&", " and ").split())


class _Forces:
    """Force names in files matched to loaded forces."""

    def __init__(self, forces: Iterable[tuple[str, str]]) -> None:
        self.ids = {force_id for force_id, _ in forces}
        self.by_name = {_force_key(name): force_id for force_id, name in forces}
        self.btp_id = self.by_name.get(_force_key(BTP_NAME))
        self._seen: dict[str, tuple[bool, str | None]] = {}  # a file repeats one name

    @classmethod
    async def load(cls) -> _Forces:
        return cls(await Force.all().values_list("id", "name"))

    def for_name(self, name: str) -> tuple[bool, str | None]:
        """(known, force id): BTP is known without being a loaded force."""
        answer = self._seen.get(name)
        if answer is None:
            found = self.by_name.get(_force_key(name))
            known = found is not None or _force_key(name) == _force_key(BTP_NAME)
            answer = self._seen[name] = (known, found)
        return answer


def _missing_force(name: str) -> str:
    return (
        f"no force named {name!r} is loaded: load it first with `beat areas sync FORCE_ID` "
        "(the names must match police.uk's)"
    )


# ---- the crime import ------------------------------------------------------------------------


@dataclass
class _Touched:
    """What an import changed, for the statistics and the feeds."""

    areas: dict[str, set[int]] = field(default_factory=lambda: defaultdict(set))  # month -> ids
    forces: set[tuple[str, str]] = field(default_factory=set)  # (force, month)

    def crime(self, force_id: str | None, month: str, area_id: int | None) -> None:
        if area_id is not None:
            self.areas[month].add(area_id)
        if force_id is not None:
            self.forces.add((force_id, month))


@dataclass
class _Counts:
    rows: int = 0
    located: int = 0
    unlocated: int = 0
    assigned: int = 0
    created: int = 0
    updated: int = 0
    removed: int = 0
    skipped: int = 0


def _row_values(
    row: CrimeRow, force_id: str | None, area_id: int | None, outcome: tuple[str, str]
) -> tuple[Any, ...]:
    """The stored columns of a crime, in CRIME_COLUMNS order."""
    return (
        force_id, row.month, row.persistent_id, row.api_id, row.category, row.lat, row.lng,
        row.location, row.location_id, row.location_type, row.lsoa_code, row.lsoa_name,
        outcome[0], outcome[1], area_id,
    )  # fmt: skip


_OUTCOME, _OUTCOME_MONTH, _AREA = 12, 13, 14  # positions in _row_values
_FORCE, _MONTH, _CATEGORY = 0, 1, 4


class _CrimeImport:
    """One file's or response's crimes, written in batches inside the caller's transaction."""

    def __init__(
        self,
        conn: BaseDBAsyncClient,
        *,
        name: str,
        source_id: int,
        forces: _Forces,
        api_force: tuple[str | None] | None,
        snapshot: bool,
        skip_idless: set[tuple[str, str]],
        outcomes_known: bool,
    ) -> None:
        self.conn = conn
        self.name = name
        self.source_id = source_id
        self.forces = forces
        self.api_force = api_force  # (force id,) for API records; None for CSV rows
        self.snapshot = snapshot
        self.skip_idless = skip_idless
        self.outcomes_known = outcomes_known
        self.indexes: dict[str | None, _AreaIndex] = {}
        self.idless: dict[tuple[str, str], int] = defaultdict(int)  # id-less rows per month
        self.pids: dict[str, int] = {}  # listings of each persistent id so far
        self.listings: dict[tuple[str, int], int] = {}  # (persistent id, API id) -> listing
        self.keys: dict[tuple[str | None, str], set[str]] = defaultdict(set)  # listed per month
        self.before: dict[tuple[str | None, str], dict[str, tuple[int, tuple[Any, ...]]]] = {}
        self.shared: dict[tuple[str | None, str], bool] = {}  # other forces' crimes that month
        self.counts = _Counts()
        self.touched = _Touched()
        self.insert_sql = _sql(conn, _INSERT_CRIME)
        self.update_sql = _sql(conn, _UPDATE_CRIME)

    def _force_of(self, row: CrimeRow) -> str | None:
        if self.api_force is not None:
            if row.location_type == "BTP":
                return self.forces.btp_id
            return self.api_force[0]
        known, force_id = self.forces.for_name(row.force_name)
        if not known:
            raise CrimeFileError(self.name, _missing_force(row.force_name), line=row.line)
        return force_id

    def _key(self, row: CrimeRow, force_id: str | None) -> str | None:
        if row.persistent_id:
            pid = row.persistent_id
            # police.uk lists some crimes twice under one persistent id (different API ids):
            # the n-th listing keeps its own row. The same API record again is the same listing.
            listing = self.listings.get((pid, row.api_id)) if row.api_id is not None else None
            if listing is None:
                listing = self.pids[pid] = self.pids.get(pid, 0) + 1
                if row.api_id is not None:
                    self.listings[(pid, row.api_id)] = listing
            return f"pid:{pid}" if listing == 1 else f"pid:{pid}:{listing}"
        if row.api_id is not None:
            if force_id is not None and (force_id, row.month) in self.skip_idless:
                return None
            return f"api:{row.api_id}"
        pair = (force_id or BTP_KEY, row.month)
        self.idless[pair] += 1
        return f"csv:{pair[0]}:{pair[1]}:{self.idless[pair]}"

    async def _index(self, force_id: str | None) -> _AreaIndex:
        if force_id not in self.indexes:
            self.indexes[force_id] = await _area_index(force_id)
        return self.indexes[force_id]

    async def _stored(self, pair: tuple[str | None, str]) -> dict[str, tuple[int, tuple[Any, ...]]]:
        """The crimes a (force, month) held before this import, by key (read once)."""
        found = self.before.get(pair)
        if found is not None:
            return found
        force_id, month = pair
        if force_id is None:
            own, others, params = "force_id IS NULL", "force_id IS NOT NULL", [month]
        else:
            own, others, params = (
                "force_id = ?",
                "(force_id IS NULL OR force_id <> ?)",
                [force_id, month],
            )
        columns = ", ".join(CRIME_COLUMNS)
        query = f"SELECT id, row_key, {columns} FROM crime WHERE {own} AND month = ?"  # noqa: S608
        _, rows = await self.conn.execute_query(_sql(self.conn, query), params)
        found = self.before[pair] = {r[1]: (r[0], tuple(r)[2:]) for r in rows}
        # Keys are per crime, so another force's (or no force's) crimes of the month are the
        # only place a key missing from `found` could already be.
        query = f"SELECT id FROM crime WHERE {others} AND month = ? LIMIT 1"  # noqa: S608
        _, rows = await self.conn.execute_query(_sql(self.conn, query), params)
        self.shared[pair] = bool(rows)
        return found

    async def add(self, batch: list[CrimeRow]) -> None:
        keyed: dict[str, tuple[CrimeRow, str | None]] = {}
        existing: dict[str, tuple[int, tuple[Any, ...]]] = {}
        lookup: list[str] = []
        for row in batch:
            force_id = self._force_of(row)
            key = self._key(row, force_id)
            if key is None:
                self.counts.skipped += 1
                continue
            pair = (force_id, row.month)
            stored = self.before.get(pair)
            if stored is None:
                stored = await self._stored(pair)
            listed = self.keys[pair]
            if key in listed:  # twice in one file: what the first occurrence wrote
                lookup.append(key)
            elif key in stored:
                existing[key] = stored[key]
            elif self.shared[pair]:
                lookup.append(key)
            listed.add(key)
            keyed[key] = (row, force_id)  # a key twice in one response: the later one
        self.counts.rows += len(batch)
        located = sum(1 for row in batch if row.lat is not None)
        self.counts.located += located
        self.counts.unlocated += len(batch) - located
        areas = await self._assign(keyed)
        self.counts.assigned += sum(1 for a in areas.values() if a is not None)
        existing.update(await self._existing(lookup))
        newer = await self._recorded_outcomes(keyed) if self.outcomes_known else {}
        inserts: list[list[Any]] = []
        updates: list[list[Any]] = []
        for key, (row, force_id) in keyed.items():
            before = existing.get(key)
            outcome = (row.outcome, row.outcome_month)
            if before is not None and before[1][_OUTCOME_MONTH] > row.outcome_month:
                outcome = (before[1][_OUTCOME], before[1][_OUTCOME_MONTH])
            recorded = newer.get(row.persistent_id)
            if recorded is not None and recorded[1] >= outcome[1]:
                outcome = recorded
            values = _row_values(row, force_id, areas[key], outcome)
            if before is None:
                inserts.append([key, *values, self.source_id])
                continue
            crime_id, stored_values = before
            if stored_values == values:
                continue
            updates.append([*values, self.source_id, crime_id])
            if (
                stored_values[_FORCE] != force_id
                or stored_values[_AREA] != areas[key]
                or stored_values[_CATEGORY] != row.category
                or stored_values[_MONTH] != row.month
            ):
                self.touched.crime(
                    stored_values[_FORCE], stored_values[_MONTH], stored_values[_AREA]
                )
                self.touched.crime(force_id, row.month, areas[key])
        for new in inserts:  # [key, *values, source]
            self.touched.crime(new[1 + _FORCE], new[1 + _MONTH], new[1 + _AREA])
        if inserts:
            inserts.sort()  # in key order: the unique index takes them far faster
            await self.conn.execute_many(self.insert_sql, inserts)
        if updates:
            await self.conn.execute_many(self.update_sql, updates)
        self.counts.created += len(inserts)
        self.counts.updated += len(updates)

    async def _assign(self, keyed: dict[str, tuple[CrimeRow, str | None]]) -> dict[str, int | None]:
        found: dict[str, int | None] = dict.fromkeys(keyed)
        by_force: dict[str | None, list[str]] = defaultdict(list)
        for key, (row, force_id) in keyed.items():
            if row.located:
                by_force[force_id].append(key)
        for force_id, keys in by_force.items():
            index = await self._index(force_id)
            rows = [keyed[k][0] for k in keys]
            lngs = [r.lng for r in rows]
            lats = [r.lat for r in rows]
            for key, area_id in zip(keys, index.assign(lngs, lats), strict=True):  # type: ignore[arg-type]
                found[key] = area_id
        return found

    async def _existing(self, keys: list[str]) -> dict[str, tuple[int, tuple[Any, ...]]]:
        found: dict[str, tuple[int, tuple[Any, ...]]] = {}
        columns = ", ".join(CRIME_COLUMNS)
        for chunk in _chunks(keys):
            query = (
                f"SELECT id, row_key, {columns} FROM crime WHERE row_key IN ({_marks(len(chunk))})"  # noqa: S608
            )
            for rec in await self.conn.execute_query_dict(_sql(self.conn, query), list(chunk)):
                found[rec["row_key"]] = (rec["id"], tuple(rec[c] for c in CRIME_COLUMNS))
        return found

    async def _recorded_outcomes(
        self, keyed: dict[str, tuple[CrimeRow, str | None]]
    ) -> dict[str, tuple[str, str]]:
        """The newest outcomes-file entry of each crime in the batch (last imported on a tie)."""
        ids = sorted({row.persistent_id for row, _ in keyed.values() if row.persistent_id})
        found: dict[str, tuple[str, str]] = {}
        for chunk in _chunks(ids):
            query = (
                "SELECT persistent_id, month, outcome FROM crime_outcome "  # noqa: S608
                f"WHERE persistent_id IN ({_marks(len(chunk))}) ORDER BY month, id"
            )
            for rec in await self.conn.execute_query_dict(_sql(self.conn, query), list(chunk)):
                found[rec["persistent_id"]] = (rec["outcome"], rec["month"])
        return found

    async def remove_unlisted(self) -> None:
        """A street CSV is its force's whole month: drop that month's crimes it doesn't list."""
        for pair, listed in self.keys.items():
            gone = [
                (crime_id, values[_AREA])
                for key, (crime_id, values) in self.before[pair].items()
                if key not in listed
            ]
            for chunk in _chunks([crime_id for crime_id, _ in gone]):
                query = f"DELETE FROM crime WHERE id IN ({_marks(len(chunk))})"  # noqa: S608
                await self.conn.execute_query(_sql(self.conn, query), list(chunk))
            for _, area_id in gone:
                self.touched.crime(pair[0], pair[1], area_id)
            self.counts.removed += len(gone)


async def _source(kind: FileKind, name: str, digest: str, now: datetime) -> CrimeSource:
    """The source row for this content: the same bytes imported again reuse it.

    Its force, month and counts are filled in when the import ends."""
    found = await CrimeSource.filter(kind=kind.value, sha256=digest).order_by("id").first()
    if found is not None:
        return found
    return await CrimeSource.create(
        kind=kind.value, name=name[:500], sha256=digest, imported_at=now
    )


async def _months_from_street_csvs(force_ids: Iterable[str]) -> set[tuple[str, str]]:
    rows = await CrimeSource.filter(
        kind=FileKind.STREET.value, force_id__in=list(force_ids)
    ).values_list("force_id", "month")
    return {(f, m) for f, m in rows if f and m}


def _translate_races(
    fn: Callable[..., Awaitable[ImportSummary]],
) -> Callable[..., Awaitable[ImportSummary]]:
    """Two imports of the same data at once (e.g. on PostgreSQL) collide on the natural keys:
    the loser's transaction is rolled back, and it says so instead of failing obscurely."""

    @functools.wraps(fn)
    async def guarded(*args: Any, **kwargs: Any) -> ImportSummary:
        try:
            return await fn(*args, **kwargs)
        except IntegrityError as exc:
            name = kwargs.get("name", "the import")
            raise Conflict(
                f"{name}: a record collided with one already stored (another import of the "
                "same data at the same time, or a crime id already stored under another "
                "month); nothing of this file was kept"
            ) from exc

    return guarded


@_translate_races
async def _import_crimes(
    rows: Iterator[CrimeRow],
    *,
    kind: FileKind,
    name: str,
    digest: str,
    api_force: tuple[str | None] | None,
    now: datetime,
    progress: Progress | None = None,
    total: int = 0,
) -> ImportSummary:
    forces = await _Forces.load()
    if api_force is not None and api_force[0] is not None and api_force[0] not in forces.ids:
        raise SourceError(_missing_force(api_force[0]), location=name)
    async with in_transaction() as conn:
        skip_idless = (
            await _months_from_street_csvs([api_force[0]])
            if api_force is not None and api_force[0] is not None
            else set()
        )
        source = await _source(kind, name, digest, now)
        work = _CrimeImport(
            conn,
            name=name,
            source_id=source.id,
            forces=forces,
            api_force=api_force,
            snapshot=kind == FileKind.STREET,
            skip_idless=skip_idless,
            outcomes_known=await CrimeOutcome.exists(),
        )
        while batch := list(islice(rows, BATCH)):
            await work.add(batch)
            if progress:
                progress(batch[-1].line, max(total, batch[-1].line))
        if progress:
            progress(total, total)
        if work.snapshot:
            await work.remove_unlisted()
        pairs = {(f, m) for f, m in work.keys if f is not None}
        changed_areas = await _refresh_stats(conn, work.touched, pairs, now)
        months = sorted({m for _, m in work.keys})
        file_forces = {f for f, _ in work.keys}
        counts = work.counts
        await CrimeSource.filter(id=source.id).update(
            force_id=next(iter(file_forces)) if len(file_forces) == 1 else None,
            month=months[0] if len(months) == 1 else "",
            rows=counts.rows,
            located=counts.located,
            unlocated=counts.unlocated,
        )
        await feed_versions.bump(changed_areas, now)
    summary = ImportSummary(
        name=name,
        kind=kind.value,
        rows=counts.rows,
        located=counts.located,
        unlocated=counts.unlocated,
        assigned=counts.assigned,
        created=counts.created,
        updated=counts.updated,
        removed=counts.removed,
        skipped=counts.skipped,
        force_id=next(iter(file_forces)) if len(file_forces) == 1 else None,
        months=tuple(months),
    )
    _log_summary(summary)
    return summary


def _log_summary(summary: ImportSummary) -> None:
    log.info(
        "crimes imported",
        extra={
            "source": summary.name, "kind": summary.kind, "rows": summary.rows,
            "located": summary.located, "unlocated": summary.unlocated,
            "assigned": summary.assigned, "new": summary.created,
            "updated": summary.updated, "removed": summary.removed, "skipped": summary.skipped,
        },
    )  # fmt: skip


# ---- statistics ------------------------------------------------------------------------------


async def _refresh_stats(
    conn: BaseDBAsyncClient, touched: _Touched, arrived: set[tuple[str, str]], now: datetime
) -> set[int]:
    """Recount what changed; returns the areas whose feeds must move on."""
    changed = await _refresh_area_stats(conn, touched.areas)
    for force_id, month in sorted(touched.forces):
        await _refresh_force_stats(conn, force_id, month)
    new_month_forces = set()
    for force_id, month in sorted(touched.forces | arrived):
        total = sum(s.count for s in await ForceCrimeStat.filter(force_id=force_id, month=month))
        found = await CrimeMonth.get_or_none(force_id=force_id, month=month)
        if found is None:
            if (force_id, month) in arrived:
                await CrimeMonth.create(
                    force_id=force_id, month=month, arrived_at=now, updated_at=now, rows=total
                )
                new_month_forces.add(force_id)
        elif (force_id, month) in touched.forces or found.rows != total:
            await CrimeMonth.filter(id=found.id).update(rows=total, updated_at=now)
    if new_month_forces:
        live = Neighbourhood.filter(force_id__in=sorted(new_month_forces), retired_at=None)
        changed |= {n.id for n in await live.only("id")}
    return changed


async def _refresh_area_stats(conn: BaseDBAsyncClient, touched: dict[str, set[int]]) -> set[int]:
    changed: set[int] = set()
    for month, area_ids in sorted(touched.items()):
        ids = sorted(area_ids)
        for chunk in _chunks(ids):
            counted = await _count_by(
                conn, "neighbourhood_id, category", f"neighbourhood_id IN ({_marks(len(chunk))})",
                [*chunk], month,
            )  # fmt: skip
            stored = {
                (s.neighbourhood_id, s.category): s
                for s in await AreaCrimeStat.filter(month=month, neighbourhood_id__in=list(chunk))
            }
            for key, n in counted.items():
                row = stored.get(key)
                if row is None:
                    await AreaCrimeStat.create(
                        neighbourhood_id=key[0], month=month, category=key[1], count=n
                    )
                elif row.count != n:
                    await AreaCrimeStat.filter(id=row.id).update(count=n)
                else:
                    continue
                changed.add(key[0])
            gone = [row for key, row in stored.items() if key not in counted]
            if gone:
                await AreaCrimeStat.filter(id__in=[r.id for r in gone]).delete()
                changed |= {r.neighbourhood_id for r in gone}
    return changed


async def _refresh_force_stats(conn: BaseDBAsyncClient, force_id: str, month: str) -> None:
    counted = await _count_by(conn, "category", "force_id = ?", [force_id], month)
    stored = {s.category: s for s in await ForceCrimeStat.filter(force_id=force_id, month=month)}
    for (category,), n in counted.items():
        row = stored.get(category)
        if row is None:
            await ForceCrimeStat.create(force_id=force_id, month=month, category=category, count=n)
        elif row.count != n:
            await ForceCrimeStat.filter(id=row.id).update(count=n)
    gone = [row.id for category, row in stored.items() if (category,) not in counted]
    if gone:
        await ForceCrimeStat.filter(id__in=gone).delete()


async def _count_by(
    conn: BaseDBAsyncClient, columns: str, where: str, params: list[Any], month: str
) -> dict[tuple[Any, ...], int]:
    query = (
        f"SELECT {columns}, COUNT(*) AS n FROM crime WHERE {where} AND month = ? GROUP BY {columns}"  # noqa: S608
    )
    names = [c.strip() for c in columns.split(",")]
    rows = await conn.execute_query_dict(_sql(conn, query), [*params, month])
    return {tuple(r[c] for c in names): int(r["n"]) for r in rows}


# ---- outcomes --------------------------------------------------------------------------------


@_translate_races
async def _import_outcomes(
    rows: Iterator[OutcomeRow],
    *,
    kind: FileKind,
    name: str,
    digest: str,
    now: datetime,
    progress: Progress | None = None,
    total: int = 0,
) -> ImportSummary:
    forces = await _Forces.load()
    counts = _Counts()
    months: set[str] = set()
    file_forces: set[str | None] = set()
    async with in_transaction() as conn:
        source = await _source(kind, name, digest, now)
        while batch := list(islice(rows, BATCH)):
            counts.rows += len(batch)
            for row in batch:
                months.add(row.month)
                if row.force_name:
                    file_forces.add(forces.for_name(row.force_name)[1])
            counts.created += await _add_outcomes(conn, batch, source.id)
            counts.updated += await _apply_outcomes(conn, batch)
            if progress:
                progress(batch[-1].line, max(total, batch[-1].line))
        if progress:
            progress(total, total)
        force_id = next(iter(file_forces)) if len(file_forces) == 1 else None
        ordered = sorted(months)
        await CrimeSource.filter(id=source.id).update(
            force_id=force_id, month=ordered[0] if len(ordered) == 1 else "", rows=counts.rows
        )
    summary = ImportSummary(
        name=name, kind=kind.value, rows=counts.rows, created=counts.created,
        updated=counts.updated, force_id=force_id, months=tuple(ordered),
    )  # fmt: skip
    _log_summary(summary)
    return summary


async def _add_outcomes(conn: BaseDBAsyncClient, batch: list[OutcomeRow], source_id: int) -> int:
    wanted = {(r.persistent_id, r.month, r.outcome) for r in batch}
    ids = sorted({r.persistent_id for r in batch})
    have: set[tuple[str, str, str]] = set()
    for chunk in _chunks(ids):
        query = (
            "SELECT persistent_id, month, outcome FROM crime_outcome "  # noqa: S608
            f"WHERE persistent_id IN ({_marks(len(chunk))})"
        )
        for rec in await conn.execute_query_dict(_sql(conn, query), list(chunk)):
            have.add((rec["persistent_id"], rec["month"], rec["outcome"]))
    new = [r for r in batch if (r.persistent_id, r.month, r.outcome) in wanted - have]
    seen: set[tuple[str, str, str]] = set()
    values: list[list[Any]] = []
    for r in new:
        key = (r.persistent_id, r.month, r.outcome)
        if key not in seen:
            seen.add(key)
            values.append([r.persistent_id, r.month, r.outcome, source_id])
    if values:
        await conn.execute_many(
            _sql(
                conn,
                "INSERT INTO crime_outcome (persistent_id, month, outcome, source_id) "
                "VALUES (?, ?, ?, ?)",
            ),
            values,
        )
    return len(values)


async def _apply_outcomes(conn: BaseDBAsyncClient, batch: list[OutcomeRow]) -> int:
    """Set each crime's outcome to the batch's newest for it, unless the stored one is newer."""
    newest: dict[str, tuple[str, str]] = {}
    for r in batch:
        current = newest.get(r.persistent_id)
        if current is None or r.month >= current[1]:
            newest[r.persistent_id] = (r.outcome, r.month)
    updates: list[list[Any]] = []
    for chunk in _chunks(sorted(newest)):
        query = (
            "SELECT id, persistent_id, outcome, outcome_month FROM crime "  # noqa: S608
            f"WHERE persistent_id IN ({_marks(len(chunk))})"
        )
        for rec in await conn.execute_query_dict(_sql(conn, query), list(chunk)):
            outcome, month = newest[rec["persistent_id"]]
            if month >= rec["outcome_month"] and (outcome, month) != (
                rec["outcome"],
                rec["outcome_month"],
            ):
                updates.append([outcome, month, rec["id"]])
    if updates:
        await conn.execute_many(
            _sql(conn, "UPDATE crime SET outcome = ?, outcome_month = ? WHERE id = ?"), updates
        )
    return len(updates)


# ---- entry points ----------------------------------------------------------------------------


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as f:
        while chunk := f.read(1 << 20):
            digest.update(chunk)
    return digest.hexdigest()


async def import_file(
    path: Path | str,
    *,
    now: datetime,
    progress: Progress | None = None,
    force_id: str | None = None,
) -> ImportSummary:
    """Import one police.uk file, recognised by its content, in one transaction.

    `force_id` names the force of an API JSON response (required: responses don't say); CSV
    rows name their own force. A bad row raises CrimeFileError (file, line, reason) and
    nothing of the file is imported.
    """
    path = Path(path)
    opened: CrimeFile = open_crime_file(path)
    digest = _sha256(path)
    total = opened.units()
    if opened.kind in (FileKind.OUTCOMES, FileKind.API_OUTCOMES):
        return await _import_outcomes(
            opened.outcomes(), kind=opened.kind, name=opened.name, digest=digest, now=now,
            progress=progress, total=total,
        )  # fmt: skip
    api_force = None
    if opened.kind == FileKind.API_CRIMES:
        if force_id is None:
            raise CrimeFileError(
                opened.name,
                "API responses don't say which force's data they are: name the force "
                "(beat crimes import --force FORCE_ID ...)",
            )
        api_force = (force_id,)
    return await _import_crimes(
        opened.crimes(), kind=opened.kind, name=opened.name, digest=digest, api_force=api_force,
        now=now, progress=progress, total=total,
    )  # fmt: skip


CRIME_FILE_SUFFIXES = (".csv", ".json")


def crime_files(paths: Iterable[Path | str]) -> list[Path]:
    """Files named, and the .csv/.json files under folders named (recursively), in order."""
    found: list[Path] = []
    for item in paths:
        path = Path(item)
        if path.is_dir():
            found.extend(
                sorted(
                    p
                    for p in path.rglob("*")
                    if p.is_file() and p.suffix.lower() in CRIME_FILE_SUFFIXES
                )
            )
        elif path.exists():
            found.append(path)
        else:
            raise CrimeFileError(str(path), "no such file or folder")
    return found


async def import_paths(
    paths: Iterable[Path | str],
    *,
    now: datetime,
    progress_for: Callable[[Path], Progress | None] | None = None,
    force_id: str | None = None,
) -> list[ImportSummary]:
    """Import files and folders, each file in its own transaction; stops at the first bad file."""
    summaries = []
    for path in crime_files(paths):
        progress = progress_for(path) if progress_for else None
        summaries.append(await import_file(path, now=now, progress=progress, force_id=force_id))
    return summaries


async def import_api_crimes(
    records: list[dict[str, Any]],
    *,
    name: str,
    force_id: str | None,
    month: str | None,
    now: datetime,
) -> ImportSummary:
    """Import the crime objects of street-level crime API responses (e.g. one month of a force).

    Records are checked as a file's rows are (a bad one imports nothing, naming its item);
    `month`, when given, must be every record's. Records sharing an id (overlapping areas)
    are stored once. Force-less (None) records are assigned to any force's areas.
    """
    if month is not None:
        for index, record in enumerate(records, start=1):
            if isinstance(record, dict) and record.get("month") != month:
                raise CrimeFileError(
                    name, f"month {record.get('month')!r}, expected {month}", item=index
                )
    digest = hashlib.sha256(
        json.dumps(records, sort_keys=True, separators=(",", ":")).encode()
    ).hexdigest()
    return await _import_crimes(
        api_crimes(records, name), kind=FileKind.API_CRIMES, name=name, digest=digest,
        api_force=(force_id,), now=now, total=len(records),
    )  # fmt: skip


# ---- reassignment ----------------------------------------------------------------------------


async def reassign_force(force_id: str, now: datetime) -> ReassignSummary:
    """Assign a force's located crimes to its current live boundaries, and fix the statistics.

    Call it after a force's boundaries change (areas sync, GeoJSON import), inside that
    transaction or right after it. Force-less crimes (BTP) that were unassigned or in this
    force's areas are looked at again too. Feed versions of areas whose statistics changed
    are bumped. Works a month at a time, so memory stays bounded for big forces.
    """
    select = "SELECT id, lat, lng, neighbourhood_id FROM crime WHERE lat IS NOT NULL AND month = ?"
    own = (f"{select} AND force_id = ?", [force_id])
    forceless = (
        f"{select} AND force_id IS NULL AND (neighbourhood_id IS NULL OR neighbourhood_id IN "  # noqa: S608
        "(SELECT id FROM neighbourhood WHERE force_id = ?))",
        [force_id],
    )
    async with in_transaction() as conn:
        index = await _area_index(force_id)
        every: _AreaIndex | None = None
        touched = _Touched()
        looked = moved = 0
        month_rows = await conn.execute_query_dict(
            _sql(conn, "SELECT DISTINCT month FROM crime WHERE lat IS NOT NULL AND "
                 "(force_id = ? OR force_id IS NULL) ORDER BY month"),
            [force_id],
        )  # fmt: skip
        for month in [r["month"] for r in month_rows]:
            for (query, params), areas in ((own, index), (forceless, every)):
                rows = await conn.execute_query_dict(_sql(conn, query), [month, *params])
                if not rows:
                    continue
                if areas is None:
                    areas = every = await _area_index(None)
                looked += len(rows)
                found = areas.assign([r["lng"] for r in rows], [r["lat"] for r in rows])
                changes: list[list[Any]] = []
                for r, area_id in zip(rows, found, strict=True):
                    if r["neighbourhood_id"] != area_id:
                        changes.append([area_id, r["id"]])
                        touched.crime(None, month, r["neighbourhood_id"])
                        touched.crime(None, month, area_id)
                if changes:
                    await conn.execute_many(
                        _sql(conn, "UPDATE crime SET neighbourhood_id = ? WHERE id = ?"), changes
                    )
                moved += len(changes)
        changed = await _refresh_area_stats(conn, touched.areas)
        await feed_versions.bump(changed, now)
    log.info(
        "crimes reassigned",
        extra={"force": force_id, "crimes": looked, "moved": moved, "areas": len(changed)},
    )
    return ReassignSummary(force_id=force_id, crimes=looked, moved=moved)
