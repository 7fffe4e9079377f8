"""Real processes on loopback for end-to-end runs: a throwaway PostgreSQL, a fake X, Beat.

Used by tests/e2e/test_cluster.py and the delivery benchmarks. Everything binds 127.0.0.1,
every wait has a deadline, and `Processes` kills whatever it started, whatever happens.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
import uuid
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TextIO

from tests.fakes.x import CREDENTIALS

REPO = Path(__file__).resolve().parents[2]
PG_URL_ENV = "BEAT_TEST_DATABASE_URL"
DEMO_FORCE = "city-of-london"
ALDERSGATE = "E05009288"
BISHOPSGATE = "E05009292"
DEMO_PASSWORD = "beat-demo-password"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


# ---- processes -------------------------------------------------------------------------------


@dataclass
class Proc:
    """One child process with its output in files."""

    name: str
    popen: subprocess.Popen[bytes]
    stdout: Path
    stderr: Path
    files: list[TextIO] = field(default_factory=list)

    @property
    def pid(self) -> int:
        return self.popen.pid

    def alive(self) -> bool:
        return self.popen.poll() is None

    def kill(self) -> None:
        """SIGKILL, and reap it."""
        if self.alive():
            self.popen.send_signal(signal.SIGKILL)
        self.popen.wait(timeout=10)

    def stop(self, grace: float = 10.0) -> None:
        """SIGTERM, then SIGKILL after `grace` seconds."""
        if self.alive():
            self.popen.send_signal(signal.SIGTERM)
            try:
                self.popen.wait(timeout=grace)
            except subprocess.TimeoutExpired:
                self.kill()
        self.popen.wait(timeout=10)

    def close_files(self) -> None:
        for fh in self.files:
            fh.close()
        self.files.clear()

    def output(self) -> str:
        return self.stdout.read_text(errors="replace") + self.stderr.read_text(errors="replace")


class Processes:
    """Starts children and, on close, stops every one still running (no strays, no zombies)."""

    def __init__(self, log_dir: Path) -> None:
        self.log_dir = log_dir
        self.started: list[Proc] = []

    def start(
        self, name: str, argv: list[str], env: Mapping[str, str], *, cwd: Path | None = None
    ) -> Proc:
        n = sum(1 for p in self.started if p.name == name)
        stem = f"{name}.{n}" if n else name
        out_path, err_path = self.log_dir / f"{stem}.out", self.log_dir / f"{stem}.err"
        out, err = out_path.open("w"), err_path.open("w")
        popen = subprocess.Popen(
            argv, stdout=out, stderr=err, stdin=subprocess.DEVNULL, env=dict(env),
            cwd=cwd or REPO,
        )  # fmt: skip
        proc = Proc(name, popen, out_path, err_path, [out, err])
        self.started.append(proc)
        return proc

    def close(self) -> None:
        for proc in reversed(self.started):
            with contextlib.suppress(Exception):
                proc.stop(grace=5)
            proc.close_files()

    def __enter__(self) -> Processes:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def wait_for_line(proc: Proc, pattern: str, *, timeout: float = 30.0) -> re.Match[str]:
    """Wait until the process's stdout has a line matching `pattern`."""
    deadline = time.monotonic() + timeout
    regex = re.compile(pattern)
    while time.monotonic() < deadline:
        found = regex.search(proc.stdout.read_text(errors="replace"))
        if found:
            return found
        if not proc.alive():
            break
        time.sleep(0.02)
    raise RuntimeError(f"{proc.name} never printed {pattern!r}:\n{proc.output()[-4000:]}")


def http_ok(url: str, timeout: float = 1.0) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=timeout) as response:  # noqa: S310 - loopback
            return bool(response.status == 200)
    except (OSError, urllib.error.URLError):
        return False


def wait_http(proc: Proc, url: str, *, timeout: float = 60.0, every: float = 0.02) -> float:
    """Poll `url` until it answers 200; the seconds it took."""
    started = time.monotonic()
    while time.monotonic() - started < timeout:
        if http_ok(url, timeout=0.5):
            return time.monotonic() - started
        if not proc.alive():
            break
        time.sleep(every)
    raise RuntimeError(f"{proc.name} never answered {url}:\n{proc.output()[-4000:]}")


def http_json(method: str, url: str, body: Any = None, timeout: float = 10.0) -> Any:
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(  # noqa: S310 - loopback
        url, data=data, method=method, headers={"Content-Type": "application/json"}
    )
    with urllib.request.urlopen(request, timeout=timeout) as response:  # noqa: S310 - loopback
        return json.loads(response.read())


# ---- Beat and the fake X -----------------------------------------------------------------


def beat_env(data_dir: Path, database_url: str = "", **extra: str) -> dict[str, str]:
    """The environment of a Beat process: ours only, none of the caller's BEAT_* settings."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("BEAT_")}
    env["BEAT_DATA_DIR"] = str(data_dir)
    if database_url:
        env["BEAT_DATABASE_URL"] = database_url
    env.update(extra)
    return env


def beat(
    args: list[str], env: Mapping[str, str], *, stdin: str | None = None, timeout: float = 120.0
) -> str:
    """Run one `beat` command to completion; its stdout, or an error with everything it said."""
    done = subprocess.run(
        [sys.executable, "-m", "beat", *args], input=stdin, capture_output=True, text=True,
        env=dict(env), timeout=timeout, cwd=REPO, check=False,
    )  # fmt: skip
    if done.returncode != 0:
        raise RuntimeError(f"beat {' '.join(args)} failed ({done.returncode}):\n{done.stderr}")
    return done.stdout


def add_x_account(env: Mapping[str, str], name: str, neighbourhoods: str) -> None:
    beat(
        ["channels", "add", "x", "--force", DEMO_FORCE, "--neighbourhoods", neighbourhoods,
         "--name", name, "--credentials-stdin"],
        env, stdin=json.dumps(CREDENTIALS),
    )  # fmt: skip


def start_fake_x(
    procs: Processes, state_file: Path, *, limits: tuple[str, ...] = ()
) -> tuple[Proc, str]:
    """`python -m tests.fakes x` on a free loopback port; the process and its base URL."""
    argv = [sys.executable, "-m", "tests.fakes", "x", "--host", "127.0.0.1", "--port", "0"]
    argv += ["--state-file", str(state_file)]
    for limit in limits:
        argv += ["--limit", limit]
    env = {k: v for k, v in os.environ.items() if not k.startswith("BEAT_")}
    proc = procs.start("fake-x", argv, env)
    found = wait_for_line(proc, r"listening on (http://\S+)")
    return proc, found.group(1)


def fake_fault(base: str, op: str, **args: Any) -> None:
    http_json("POST", f"{base}/_fake/faults", {"op": op, "args": args})


def fake_state(base: str) -> dict[str, Any]:
    state: dict[str, Any] = http_json("GET", f"{base}/_fake/state")
    return state


def live_texts(state: Mapping[str, Any]) -> list[str]:
    return [p["text"] for p in state["posts"].values() if not p["deleted"]]


def spawn_beat(
    procs: Processes,
    name: str,
    command: str,
    env: Mapping[str, str],
    *,
    extra: tuple[str, ...] = (),
) -> tuple[Proc, str]:
    """`beat serve` or `beat worker` on a free loopback port, without waiting for it."""
    port = free_port()
    argv = [sys.executable, "-m", "beat", command, "--host", "127.0.0.1", "--port", str(port)]
    proc = procs.start(name, [*argv, *extra], env)
    return proc, f"http://127.0.0.1:{port}"


def start_beat(
    procs: Processes,
    name: str,
    command: str,
    env: Mapping[str, str],
    *,
    extra: tuple[str, ...] = (),
) -> tuple[Proc, str]:
    """`beat serve` or `beat worker` on a free port; returns once /healthz answers."""
    proc, base = spawn_beat(procs, name, command, env, extra=extra)
    wait_http(proc, f"{base}/healthz")
    return proc, base


def json_lines(path: Path) -> Iterator[dict[str, Any]]:
    """The JSON log records in a file, skipping anything else (a traceback's tail, say)."""
    for line in path.read_text(errors="replace").splitlines():
        if line.startswith("{"):
            with contextlib.suppress(ValueError):
                yield json.loads(line)


# ---- PostgreSQL --------------------------------------------------------------------------


def pg_bindir() -> Path | None:
    """Server binaries: BEAT_PG_BINDIR, Debian's 15, another Debian version, or PATH."""
    candidates = [os.environ.get("BEAT_PG_BINDIR", ""), "/usr/lib/postgresql/15/bin"]
    candidates += sorted(
        (str(p) for p in Path("/usr/lib/postgresql").glob("*/bin")),
        key=lambda p: int(p.split("/")[-2]) if p.split("/")[-2].isdigit() else 0,
        reverse=True,
    )
    initdb = shutil.which("initdb")
    if initdb:
        candidates.append(str(Path(initdb).parent))
    for dir_ in candidates:
        if dir_ and (Path(dir_) / "initdb").exists() and (Path(dir_) / "pg_ctl").exists():
            return Path(dir_)
    return None


def _as_postgres() -> list[str]:
    # The server refuses to run as root: run it as the postgres user then (as scripts/test).
    return ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []


def _run(argv: list[str], timeout: float = 90.0) -> None:
    done = subprocess.run(argv, capture_output=True, text=True, timeout=timeout, check=False)
    if done.returncode != 0:
        raise RuntimeError(f"{' '.join(argv)} failed:\n{done.stdout}\n{done.stderr}")


@contextlib.contextmanager
def throwaway_server() -> Iterator[str]:
    """A PostgreSQL server in a temp dir on a free loopback port; yields a URL to its `beat`
    database. Stopped and removed afterwards, as scripts/test does."""
    bindir = pg_bindir()
    if bindir is None:
        raise RuntimeError("PostgreSQL server binaries (initdb, pg_ctl) not found")
    as_pg = _as_postgres()
    pg_dir = Path(tempfile.mkdtemp(prefix="beat-e2e-pg."))
    data = pg_dir / "data"
    started = False
    try:
        if as_pg:
            shutil.chown(pg_dir, "postgres", "postgres")
        _run([*as_pg, str(bindir / "initdb"), "-D", str(data), "-U", "postgres", "--auth=trust",
              "--encoding=UTF8", "--locale=C"])  # fmt: skip
        port = free_port()
        options = (
            f"-p {port} -k {pg_dir} -c listen_addresses=127.0.0.1 -c fsync=off "
            "-c synchronous_commit=off -c full_page_writes=off"
        )
        _run([*as_pg, str(bindir / "pg_ctl"), "-D", str(data), "-l", str(pg_dir / "server.log"),
              "-w", "-t", "60", "start", "-o", options])  # fmt: skip
        started = True
        _run([*as_pg, str(bindir / "createdb"), "-h", "127.0.0.1", "-p", str(port),
              "-U", "postgres", "beat"])  # fmt: skip
        yield f"postgres://postgres@127.0.0.1:{port}/beat"
    finally:
        if started:
            with contextlib.suppress(Exception):
                _run([*as_pg, str(bindir / "pg_ctl"), "-D", str(data), "-m", "immediate",
                      "-w", "stop"], timeout=30)  # fmt: skip
        shutil.rmtree(pg_dir, ignore_errors=True)


def _with_database(url: str, name: str) -> str:
    base, _, _ = url.rpartition("/")
    return f"{base}/{name}"


def _admin(url: str, sql: str) -> None:
    """One statement on its own connection, from a thread of its own: callers may be sync code
    running under another event loop's test runner, where asyncio.run must not touch theirs."""

    async def execute() -> None:
        import asyncpg

        conn = await asyncpg.connect(url.replace("postgres://", "postgresql://", 1), timeout=10)
        try:
            await conn.execute(sql)
        finally:
            await conn.close()

    with concurrent.futures.ThreadPoolExecutor(max_workers=1) as pool:
        pool.submit(asyncio.run, execute()).result(timeout=30)


@contextlib.contextmanager
def database_on(server_url: str) -> Iterator[str]:
    """A fresh database on an existing server (BEAT_TEST_DATABASE_URL), dropped afterwards,
    so the run neither sees nor disturbs the test suite's own database."""
    name = f"beat_e2e_{uuid.uuid4().hex[:10]}"
    _admin(server_url, f'CREATE DATABASE "{name}"')
    try:
        yield _with_database(server_url, name)
    finally:
        _admin(server_url, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@contextlib.contextmanager
def postgres() -> Iterator[str]:
    """A PostgreSQL database for one run: on BEAT_TEST_DATABASE_URL's server if set, else on
    a throwaway server of our own."""
    configured = os.environ.get(PG_URL_ENV, "")
    if configured:
        with database_on(configured) as url:
            yield url
    else:
        with throwaway_server() as url:
            yield url


async def pg_query(url: str, sql: str, *args: Any) -> list[dict[str, Any]]:
    """One query on its own connection (the processes under test hold their own)."""
    import asyncpg

    conn = await asyncpg.connect(url.replace("postgres://", "postgresql://", 1), timeout=10)
    try:
        return [dict(r) for r in await conn.fetch(sql, *args)]
    finally:
        await conn.close()
