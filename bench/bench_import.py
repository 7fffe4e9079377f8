"""Crime import: `beat crimes import` rows/s against a plain csv.reader + sqlite3.executemany.

Run: .venv/bin/python bench/bench_import.py [--rows 100000] [--seed 5]

Builds one street CSV of --rows rows by repeating the real City of London rows (the demo's nine
months) with their points jittered by up to about 50 m and fresh fake 64-hex crime ids, so every
row is distinct; ASB rows stay id-less and unlocated rows unlocated, as in the real files. All
rows get one month, as a big force's monthly file would. Then, in the same run:

(a) the baseline: csv.reader over the file and sqlite3.executemany of every row into a
    12-column table in a temporary SQLite file, committed;
(b) Beat: `beat.crimes.import_file` of the same file into a fresh migrated SQLite database
    holding the demo's 25 City wards: checks every row, assigns each point to its ward,
    writes crimes, statistics and the data month in one transaction;
(c) Beat again on the same file: the idempotent re-import (nothing changes).

It prints rows/s of each and the ratio of Beat to the baseline. Timings are wall clock on
this machine; nothing is asserted about them.
"""

from __future__ import annotations

import argparse
import asyncio
import csv
import os
import platform
import random
import sqlite3
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

from beat import areas, crimes, db
from beat.models import AreaCrimeStat, Crime
from beat.policeuk.folder import FolderSource
from beat.settings import Settings

REPO = Path(__file__).resolve().parents[1]
CITY = REPO / "beat" / "demo_data" / "police-uk" / "city-of-london"
AREAS = REPO / "beat" / "demo_data" / "policeuk"
MONTH = "2017-06"
JITTER = 0.0005  # degrees: about 55 m north-south, 35 m east-west in London


def build_csv(target: Path, rows: int, rng: random.Random) -> None:
    source: list[list[str]] = []
    header: list[str] = []
    for path in sorted(CITY.glob("*.csv")):
        with path.open(newline="", encoding="utf-8") as f:
            reader = csv.reader(f)
            header = next(reader)
            source.extend(reader)
    with target.open("w", newline="", encoding="utf-8") as f:
        writer = csv.writer(f, lineterminator="\r\n")
        writer.writerow(header)
        for i in range(rows):
            row = list(source[i % len(source)])
            row[1] = MONTH
            if row[0]:
                row[0] = f"{rng.getrandbits(256):064x}"
            if row[4]:
                row[4] = f"{float(row[4]) + rng.uniform(-JITTER, JITTER):.6f}"
                row[5] = f"{float(row[5]) + rng.uniform(-JITTER, JITTER):.6f}"
            writer.writerow(row)


def baseline(path: Path, tmp: Path) -> tuple[int, float]:
    started = time.perf_counter()
    conn = sqlite3.connect(tmp / "baseline.sqlite3")
    conn.execute(
        "CREATE TABLE crime (crime_id TEXT, month TEXT, reported_by TEXT, falls_within TEXT, "
        "lng REAL, lat REAL, location TEXT, lsoa_code TEXT, lsoa_name TEXT, crime_type TEXT, "
        "outcome TEXT, context TEXT)"
    )
    with path.open(newline="", encoding="utf-8") as f:
        reader = csv.reader(f)
        next(reader)
        conn.executemany("INSERT INTO crime VALUES (?,?,?,?,?,?,?,?,?,?,?,?)", reader)
    conn.commit()
    count = conn.execute("SELECT COUNT(*) FROM crime").fetchone()[0]
    conn.close()
    return int(count), time.perf_counter() - started


async def beat_import(path: Path, tmp: Path) -> tuple[crimes.ImportSummary, float, float, int]:
    settings = Settings(data_dir=tmp, database_url=f"sqlite://{tmp / 'beat.sqlite3'}")
    await db.migrate(settings)
    async with db.db_session(settings):
        now = datetime.now(UTC)
        await areas.sync_force(FolderSource(AREAS), "city-of-london", now=now)
        started = time.perf_counter()
        first = await crimes.import_file(path, now=now)
        elapsed = time.perf_counter() - started
        started = time.perf_counter()
        again = await crimes.import_file(path, now=now)
        elapsed_again = time.perf_counter() - started
        stored = await Crime.all().count()
        in_areas = sum(s.count for s in await AreaCrimeStat.filter(month=MONTH))
        if again.created or again.updated or again.removed or stored != first.rows:
            print(f"  FAILED: re-import changed something ({again}) or rows lost ({stored})")
        if in_areas != first.assigned:
            print(f"  FAILED: area statistics hold {in_areas}, assigned {first.assigned}")
    return first, elapsed, elapsed_again, stored


async def run(args: argparse.Namespace, tmp: Path) -> int:
    path = tmp / f"{MONTH}-bench-street.csv"
    build_csv(path, args.rows, random.Random(args.seed))
    size = path.stat().st_size
    print(f"{args.rows} rows, {size / 1e6:.1f} MB street CSV, one month, SQLite\n")
    count, base_s = baseline(path, tmp)
    summary, beat_s, again_s, stored = await beat_import(path, tmp)
    base_rps = count / base_s
    for label, rows, seconds in (
        ("(a) csv.reader + sqlite3.executemany", count, base_s),
        ("(b) beat crimes import (fresh)", stored, beat_s),
        ("(c) beat crimes import (again, no changes)", summary.rows, again_s),
    ):
        rate = rows / seconds
        print(
            f"{label:<44} {rows:>7} rows {seconds:>6.2f} s {rate:>9.0f} rows/s  "
            f"ratio {rate / base_rps:.3f}"
        )
    print(
        f"\n  located {summary.located}, unlocated {summary.unlocated}, "
        f"in a ward {summary.assigned}, new {summary.created}"
    )
    return 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--seed", type=int, default=5)
    args = parser.parse_args()
    versions = f"Python {platform.python_version()}, SQLite {sqlite3.sqlite_version}"
    print(f"{versions}, {os.cpu_count()} CPUs")
    with tempfile.TemporaryDirectory(prefix="beat-bench-") as tmp:
        return asyncio.run(run(args, Path(tmp)))


if __name__ == "__main__":
    sys.exit(main())
