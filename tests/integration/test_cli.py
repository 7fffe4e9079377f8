"""The `beat` command as an operator uses it: exit codes, messages naming files, real effects."""

from __future__ import annotations

import asyncio
import io
import json
import shutil
import sys

import pytest

from beat import db as beat_db
from beat.cli import main
from beat.models import Force, Neighbourhood, Role, User
from beat.settings import Settings
from tests.conftest import PG_URL, _truncate_postgres


@pytest.fixture
def cli_settings(settings: Settings, monkeypatch) -> Settings:
    monkeypatch.setenv("BEAT_DATA_DIR", str(settings.data_dir))
    monkeypatch.setenv("BEAT_DATABASE_URL", settings.database_url)
    monkeypatch.setenv("BEAT_KEYS_DIR", str(settings.signing_keys_dir))
    if PG_URL:

        async def clean() -> None:
            async with beat_db.db_session(settings) as ctx:
                await _truncate_postgres(ctx)

        asyncio.run(clean())
    return settings


def run(*argv: str, stdin: str = "") -> tuple[int, str]:
    out = io.StringIO()
    old = sys.stdin
    sys.stdin = io.StringIO(stdin)
    try:
        code = main(["--log-level", "WARNING", *argv], out=out)
    finally:
        sys.stdin = old
    return code, out.getvalue()


def query(settings: Settings, fn):
    async def go():
        async with beat_db.db_session(settings):
            return await fn()

    return asyncio.run(go())


def test_migrate_reports_an_up_to_date_database(cli_settings):
    assert run("migrate") == (0, "database is up to date\n")


def test_areas_sync_from_a_folder_then_add_an_officer(cli_settings, demo_areas):
    code, out = run("areas", "sync", "city-of-london", "--source", str(demo_areas))
    assert code == 0
    assert out == "city-of-london: 25 neighbourhoods (25 new, 0 updated, 0 retired)\n"
    code, out = run("areas", "sync", "city-of-london", "--source", str(demo_areas))
    assert out == "city-of-london: 25 neighbourhoods (0 new, 25 updated, 0 retired)\n"

    code, out = run(
        "users", "add", "--email", "PC.Ahmed@city.police.uk", "--role", "officer",
        "--force", "city-of-london", "--team", "E05009288", "--password-stdin",
        stdin="a very long passphrase\n",
    )  # fmt: skip
    assert code == 0, out
    user = query(cli_settings, lambda: User.get(email="pc.ahmed@city.police.uk"))
    assert user.role == Role.OFFICER
    assert (
        query(cli_settings, lambda: Neighbourhood.filter(force_id="city-of-london").count()) == 25
    )


def test_a_resident_has_no_force(cli_settings, capsys):
    code, _ = run(
        "users", "add", "--email", "r@example.org", "--role", "resident", "--force", "city-of-london",
        "--password-stdin", stdin="a very long passphrase\n",
    )  # fmt: skip
    assert code == 1
    assert "residents have no force" in capsys.readouterr().err
    code, _ = run(
        "users", "add", "--email", "r@example.org", "--role", "resident", "--password-stdin",
        stdin="a very long passphrase\n",
    )  # fmt: skip
    assert code == 0


@pytest.mark.parametrize(
    ("extra", "stdin", "message"),
    [
        (["--role", "officer", "--force", "atlantis", "--team", "X"], "a very long passphrase\n", "unknown force"),
        (["--role", "officer", "--force", "city-of-london", "--team", "nope"], "a very long passphrase\n", "unknown team"),
        (["--role", "officer", "--force", "city-of-london"], "a very long passphrase\n", "needs a team"),
        (["--role", "comms", "--force", "city-of-london"], "short\n", "at least 12"),
    ],
)  # fmt: skip
def test_users_add_explains_what_is_wrong(cli_settings, demo_areas, capsys, extra, stdin, message):
    run("areas", "sync", "city-of-london", "--source", str(demo_areas))
    code, _ = run(
        "users", "add", "--email", "x@city.police.uk", *extra, "--password-stdin", stdin=stdin
    )
    assert code == 1
    assert message in capsys.readouterr().err
    assert not query(cli_settings, lambda: User.exists(email="x@city.police.uk"))


def test_a_duplicate_account_is_refused(cli_settings, capsys):
    args = ("users", "add", "--email", "r@example.org", "--role", "resident", "--password-stdin")
    assert run(*args, stdin="a very long passphrase\n")[0] == 0
    assert run(*args, stdin="a very long passphrase\n")[0] == 1
    assert "already exists" in capsys.readouterr().err


def test_a_broken_source_file_is_named_and_nothing_is_loaded(
    cli_settings, demo_areas, tmp_path, capsys
):
    folder = tmp_path / "broken"
    shutil.copytree(demo_areas, folder)
    (folder / "city-of-london" / "E05009295.json").write_text(json.dumps({"name": "no id"}))
    code, _ = run("areas", "sync", "city-of-london", "--source", str(folder))
    assert code == 1
    err = capsys.readouterr().err
    assert "E05009295.json" in err and "expected a neighbourhood object" in err
    assert query(cli_settings, lambda: Force.all().count()) == 0


def test_a_missing_source_folder_is_an_error(cli_settings, tmp_path, capsys):
    code, _ = run("areas", "sync", "city-of-london", "--source", str(tmp_path / "nowhere"))
    assert code == 1
    assert "is not a folder" in capsys.readouterr().err


def test_a_bad_setting_is_a_configuration_error(cli_settings, monkeypatch, capsys):
    monkeypatch.setenv("BEAT_ACCESS_TOKEN_TTL", "forever")
    assert run("migrate")[0] == 2
    assert "BEAT_ACCESS_TOKEN_TTL" in capsys.readouterr().err


def test_demo_setup_can_be_run_again(cli_settings):
    first = run("demo", "--no-serve")
    second = run("demo", "--no-serve")
    assert first[0] == second[0] == 0
    assert "officer@demo.beat" in second[1]
    assert query(cli_settings, lambda: User.filter(email__endswith="@demo.beat").count()) == 4


def test_teams_add_and_assign(cli_settings, demo_areas):
    run("areas", "sync", "city-of-london", "--source", str(demo_areas))
    assert run(
        "teams", "add", "--force", "city-of-london", "--id", "north", "--name", "City North"
    ) == (
        0,
        "created team north (City North) in city-of-london\n",
    )
    code, out = run(
        "teams", "assign", "--force", "city-of-london", "--team", "north",
        "--neighbourhoods", "E05009288,E05009292",
    )  # fmt: skip
    assert (code, out) == (0, "team north now covers 2: Aldersgate, Bishopsgate\n")


def test_forces_set_changes_the_rules(cli_settings, demo_areas, capsys):
    run("areas", "sync", "city-of-london", "--source", str(demo_areas))
    code, out = run(
        "forces", "set", "city-of-london", "--policy", "pre-moderate-all", "--require-welsh", "yes",
        "--delay", "patrol=60", "--retention-days", "90",
    )  # fmt: skip
    assert code == 0, capsys.readouterr().err
    assert out == (
        "city-of-london: policy pre-moderate-all, welsh required, officers post in their team areas, "
        "delays {'patrol': 60}, retention 90 days\n"
    )
    code, _ = run("forces", "set", "city-of-london", "--delay", "patrol=soon")
    assert code == 1
    assert "KIND=MINUTES" in capsys.readouterr().err
    code, _ = run("forces", "set", "city-of-london", "--delay", "siege=5")
    assert code == 1
    assert "not a post kind" in capsys.readouterr().err


def test_channels_add_list_remove_never_show_secrets(cli_settings, demo_areas, capsys):
    run("areas", "sync", "city-of-london", "--source", str(demo_areas))
    secret = '{"base_url": "https://mastodon.example", "access_token": "tok-SECRET-123"}'
    code, out = run(
        "channels", "add", "mastodon", "--force", "city-of-london", "--neighbourhoods", "E05009288",
        "--name", "City Police Mastodon", "--credentials-stdin", stdin=secret,
    )  # fmt: skip
    assert code == 0, capsys.readouterr().err
    assert out == "added mastodon account 1 'City Police Mastodon' for Aldersgate\n"
    code, out = run("channels", "list", "--force", "city-of-london")
    assert out.startswith("1\tmastodon\tCity Police Mastodon\t-\thealthy\tE05009288")
    assert "tok-SECRET-123" not in out + capsys.readouterr().err
    code, _ = run(
        "channels", "add", "x", "--force", "city-of-london", "--force-wide", "--name", "Bad",
        "--credentials-stdin", stdin='{"consumer_key": "only this"}',
    )  # fmt: skip
    assert code == 1
    assert "missing consumer_secret" in capsys.readouterr().err
    assert run("channels", "remove", "1", "--force", "city-of-london")[0] == 0
    assert run("channels", "list", "--force", "city-of-london")[1] == ""


@pytest.fixture
def fake_x_process(tmp_path):
    import subprocess

    proc = subprocess.Popen(
        [sys.executable, "-m", "tests.fakes", "x", "--port", "0", "--state-file", str(tmp_path / "x.json")],
        stdout=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        line = proc.stdout.readline()
        assert "listening on" in line, line
        yield line.split("listening on", 1)[1].strip()
    finally:
        proc.kill()
        proc.wait(timeout=10)
        proc.stdout.close()


def test_channels_check_marks_failing_credentials(
    cli_settings, demo_areas, fake_x_process, monkeypatch, capsys
):
    from tests.fakes.x import CREDENTIALS

    monkeypatch.setenv("BEAT_X_API_URL", fake_x_process)
    run("areas", "sync", "city-of-london", "--source", str(demo_areas))
    good = json.dumps(CREDENTIALS)
    bad = json.dumps({**CREDENTIALS, "access_token_secret": "wrong"})
    for name, creds in (("Good", good), ("Stale", bad)):
        code, _ = run(
            "channels", "add", "x", "--force", "city-of-london", "--force-wide", "--name", name,
            "--credentials-stdin", stdin=creds,
        )  # fmt: skip
        assert code == 0, capsys.readouterr().err
    code, out = run("channels", "check", "--force", "city-of-london")
    assert code == 1
    assert "1 Good: ok (CityPolice)" in out
    assert "2 Stale: FAILING" in out
