"""Schemathesis against a live `beat serve` on loopback: no 500s, every answer as the contract says."""

from __future__ import annotations

import ctypes
import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import schemathesis
from schemathesis import Case
from schemathesis.checks import not_a_server_error
from schemathesis.config import SchemathesisConfig
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from tests.contract.validating import SPEC_PATH

pytestmark = pytest.mark.slow

DEMO_PASSWORD = "beat-demo-password"
ADMIN = "admin@demo.beat"  # a force administrator reaches most authenticated routes
OFFICER = "officer@demo.beat"
COMMS = "comms@demo.beat"
# Operations that only an officer or comms get past the permission check of; as anyone else
# they would answer 403 before reading what was sent. The demo officer's posts (the demo makes
# two, and createPost more) are what listMyPosts and the queue serialise.
SIGNED_IN_AS = {
    "createPost": OFFICER,
    "listMyPosts": OFFICER,
    "listMyNotifications": OFFICER,
    "getModerationQueue": COMMS,
    "listDeliveriesNeedingDecision": COMMS,
    "resolveDelivery": COMMS,
}
MAX_EXAMPLES = 50  # per operation; the whole run (50 operations) takes about a minute
STARTUP_SECONDS = 30
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
]


def _sign_in(base_url: str, email: str = ADMIN) -> str:
    body = json.dumps({"email": email, "password": DEMO_PASSWORD}).encode()
    request = urllib.request.Request(  # noqa: S310 - an http URL of our own making
        f"{base_url}/v1/auth/login",
        data=body,
        headers={"Content-Type": "application/json"},
        method="POST",
    )
    with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310
        return str(json.load(response)["access_token"])


@dataclass(frozen=True)
class LiveServer:
    base_url: str
    tokens: dict[str, str]  # by e-mail

    def fresh_token(self) -> str:
        return _sign_in(self.base_url)


def _server_env(data_dir: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("BEAT_")}
    env.update(
        BEAT_DATA_DIR=str(data_dir),
        # SQLite of its own even when the suite runs on PostgreSQL: the other tests truncate
        # that database under a running server.
        BEAT_DATABASE_URL=f"sqlite://{data_dir / 'beat.sqlite3'}",
        # Fuzzed sign-ins fail by the hundred; the lock-out is the contract tests' business.
        BEAT_LOGIN_FAILURES_PER_ACCOUNT="1000000",
        BEAT_LOGIN_FAILURES_PER_ADDRESS="1000000",
    )
    return env


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _wait_until_healthy(base_url: str, process: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + STARTUP_SECONDS
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"beat serve exited with {process.returncode}:\n{log.read_text()}")
        try:
            with urllib.request.urlopen(f"{base_url}/healthz", timeout=1) as response:  # noqa: S310
                if response.status == 200:
                    return
        except (urllib.error.URLError, ConnectionError):
            time.sleep(0.1)
    raise RuntimeError(f"beat serve did not become healthy:\n{log.read_text()}")


def _die_with_parent() -> None:
    """Runs in the server's process: on Linux it gets SIGTERM should pytest die abruptly."""
    if sys.platform == "linux":
        ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGTERM)  # 1 = PR_SET_PDEATHSIG


def _stop(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)


@pytest.fixture(scope="module")
def live_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    """`beat demo --no-serve` then `beat serve` in a subprocess; always stopped afterwards."""
    data_dir = tmp_path_factory.mktemp("fuzz-server")
    env = _server_env(data_dir)
    beat = [sys.executable, "-m", "beat", "--log-level", "WARNING"]
    subprocess.run(
        [*beat, "demo", "--no-serve"], env=env, check=True, capture_output=True, timeout=120
    )
    port = _free_port()
    base_url = f"http://127.0.0.1:{port}"
    log = data_dir / "serve.log"
    with log.open("wb") as out:
        process = subprocess.Popen(
            [*beat, "serve", "--host", "127.0.0.1", "--port", str(port)],
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            preexec_fn=_die_with_parent,
        )
    try:
        _wait_until_healthy(base_url, process, log)
        tokens = {email: _sign_in(base_url, email) for email in (ADMIN, OFFICER, COMMS)}
        yield LiveServer(base_url, tokens)
    finally:
        _stop(process)
    errors = [line for line in log.read_text().splitlines() if '"level": "ERROR"' in line]
    assert not errors, "the server logged errors while fuzzed:\n" + "\n".join(errors[:20])


# Loading the file is all that happens at import; the server's address is given per call.
schema = schemathesis.openapi.from_path(
    SPEC_PATH,
    config=SchemathesisConfig.from_dict(
        {
            "request-timeout": 10,
            "generation": {
                "mode": "all",  # valid requests and ones that break the contract
                "max-examples": MAX_EXAMPLES,
                "deterministic": True,
                "database": "none",  # nothing kept between runs, nothing written to the repo
            },
            "phases": {"stateful": {"enabled": False}},
        }
    ),
)


def _authorization(case: Case, server: LiveServer) -> dict[str, str]:
    if not case.operation.definition.raw.get("security"):
        return {}
    # Signing out ends the session it is sent with: give each sign-out a session of its own.
    if case.operation.path == "/v1/auth/logout":
        token = server.fresh_token()
    else:
        operation_id = case.operation.definition.raw.get("operationId")
        token = server.tokens[SIGNED_IN_AS.get(operation_id, ADMIN)]
    return {"Authorization": f"Bearer {token}"}


@schema.parametrize()
def test_fuzzed_requests_get_documented_answers(case: Case, live_server: LiveServer) -> None:
    case.call_and_validate(
        base_url=live_server.base_url,
        headers=_authorization(case, live_server),
        checks=CHECKS,
    )
