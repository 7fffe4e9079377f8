"""The `beat` command: serve, demo, migrate, users, areas, keys."""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import logging
import os
import sys
from collections.abc import Callable, Coroutine, Sequence
from contextlib import AsyncExitStack
from importlib import resources
from pathlib import Path
from typing import Any, TextIO

from beat import accounts, areas, crimesync, db, forces, logs, teams, tokens
from beat.clock import utcnow
from beat.errors import BeatError, ConfigError
from beat.models import ModerationPolicy, Role, User
from beat.settings import Settings

log = logging.getLogger(__name__)

DEMO_FORCE = "city-of-london"
DEMO_AREA = "E05009288"  # Aldersgate ward
DEMO_PASSWORD = "beat-demo-password"  # noqa: S105 - printed for the demo, demo accounts only
DEMO_ACCOUNTS = (
    ("officer@demo.beat", Role.OFFICER, "E05009288", "PC Demo Officer (Aldersgate)"),
    ("comms@demo.beat", Role.COMMS, None, "Demo Comms Officer"),
    ("admin@demo.beat", Role.FORCE_ADMIN, None, "Demo Force Administrator"),
    ("resident@demo.beat", Role.RESIDENT, None, "Demo Resident"),
)


class UsageError(BeatError):
    """The command line asks for something that cannot be done as given."""


def _progress(label: str, unit: str = "area") -> Callable[[int, int], None]:
    """A progress bar on stderr (tqdm), drawn only when stderr is a terminal."""
    from tqdm import tqdm

    bar: Any = None

    def update(done: int, total: int) -> None:
        nonlocal bar
        if bar is None:
            bar = tqdm(total=total, desc=label, unit=unit, disable=None, file=sys.stderr)
        bar.n = done
        bar.refresh()
        if done >= total:
            bar.close()

    return update


# ---- commands ------------------------------------------------------------------------------


async def cmd_migrate(settings: Settings, args: argparse.Namespace, out: TextIO) -> int:
    applied = await db.migrate(settings)
    if applied:
        out.write(f"applied {len(applied)} migration(s): {', '.join(applied)}\n")
    else:
        out.write("database is up to date\n")
    return 0


async def cmd_users_add(settings: Settings, args: argparse.Namespace, out: TextIO) -> int:
    if not args.password_stdin:
        raise UsageError("give the password on standard input with --password-stdin")
    password = sys.stdin.readline().rstrip("\r\n")
    role = Role(args.role)
    force = None if role == Role.RESIDENT else args.force
    if role == Role.RESIDENT and args.force:
        raise UsageError("residents have no force: leave out --force")
    async with db.db_session(settings):
        user = await accounts.create_user(
            None,
            email=args.email,
            role=role,
            password=password,
            force_id=force,
            team_code=args.team,
            display_name=args.display_name or "",
        )
    out.write(f"created {role.value} {user.email} (id {user.id})\n")
    return 0


async def _area_source(
    stack: AsyncExitStack, source: str, settings: Settings
) -> crimesync.PoliceData:
    if source.startswith(("http://", "https://")):
        import aiohttp

        from beat.policeuk.client import PoliceUkClient

        session = await stack.enter_async_context(aiohttp.ClientSession())
        return PoliceUkClient(session, source)
    from beat.policeuk.folder import FolderSource

    return FolderSource(Path(source))


async def cmd_areas_sync(settings: Settings, args: argparse.Namespace, out: TextIO) -> int:
    async with AsyncExitStack() as stack:
        source = await _area_source(stack, args.source or settings.policeuk_base_url, settings)
        async with db.db_session(settings):
            result = await areas.sync_force(
                source, args.force_id, now=utcnow(), progress=_progress(f"{args.force_id} areas")
            )
    out.write(
        f"{result.force}: {result.total} neighbourhoods ({result.created} new, "
        f"{result.updated} updated, {result.retired} retired)\n"
    )
    return 0


def _crime_summary(summary: Any) -> str:
    if summary.kind in ("outcomes", "api-outcomes"):
        return (
            f"{summary.name}: {summary.rows} outcome rows ({summary.created} new, "
            f"{summary.updated} crimes updated)"
        )
    extra = f", {summary.removed} removed" if summary.removed else ""
    extra += f", {summary.skipped} skipped" if summary.skipped else ""
    return (
        f"{summary.name}: {summary.rows} rows, {summary.located} located, "
        f"{summary.unlocated} unlocated, {summary.assigned} in an area "
        f"({summary.created} new, {summary.updated} updated{extra})"
    )


async def cmd_crimes_import(settings: Settings, args: argparse.Namespace, out: TextIO) -> int:
    from beat import crimes

    files = crimes.crime_files(args.paths)
    if not files:
        raise UsageError(f"no .csv or .json files in {', '.join(args.paths)}")
    async with db.db_session(settings):
        for path in files:
            summary = await crimes.import_file(
                path, now=utcnow(), progress=_progress(path.name, "line"), force_id=args.force
            )
            out.write(_crime_summary(summary) + "\n")
            out.flush()
    return 0


async def cmd_areas_import_geojson(
    settings: Settings, args: argparse.Namespace, out: TextIO
) -> int:
    from beat import area_files

    paths = [Path(p) for p in args.files]
    features = await asyncio.to_thread(
        area_files.read_features,
        paths,
        id_property=args.id_property,
        name_property=args.name_property,
    )
    async with db.db_session(settings):
        result = await area_files.import_areas(
            args.force_id, features, now=utcnow(), files=len(paths)
        )
    out.write(
        f"{result.force}: {len(features)} areas from {result.files} file(s) ({result.created} "
        f"new, {result.updated} updated, {result.unchanged} unchanged)\n"
    )
    return 0


async def cmd_crimes_sync(settings: Settings, args: argparse.Namespace, out: TextIO) -> int:
    async with AsyncExitStack() as stack:
        source = await _area_source(stack, args.source or settings.policeuk_base_url, settings)
        async with db.db_session(settings):
            result = await crimesync.sync_month(
                source, args.force_id, month=args.month, now=utcnow(),
                progress=_progress(f"{args.force_id} crimes"),
            )  # fmt: skip
    fetched = result.fetched
    out.write(
        f"{args.force_id} {fetched.month}: {len(fetched.records)} crimes in {fetched.areas} "
        f"neighbourhoods ({fetched.outside} just outside them left out)\n"
    )
    out.write(_crime_summary(result.summary) + "\n")
    return 0


async def cmd_teams_add(settings: Settings, args: argparse.Namespace, out: TextIO) -> int:
    async with db.db_session(settings):
        view = await teams.create_team(None, args.force, code=args.id, name=args.name)
    out.write(f"created team {view.team.code} ({view.team.name}) in {args.force}\n")
    return 0


async def cmd_teams_assign(settings: Settings, args: argparse.Namespace, out: TextIO) -> int:
    codes = [c.strip() for c in args.neighbourhoods.split(",") if c.strip()]
    async with db.db_session(settings):
        view = await teams.assign_neighbourhoods(None, args.force, args.team, codes)
    names = ", ".join(n.name for n in view.neighbourhoods)
    out.write(f"team {view.team.code} now covers {len(view.neighbourhoods)}: {names}\n")
    return 0


def _yes_no(value: str | None, name: str) -> bool | None:
    if value is None:
        return None
    if value.lower() in ("yes", "true", "on", "1"):
        return True
    if value.lower() in ("no", "false", "off", "0"):
        return False
    raise UsageError(f"{name}: say yes or no, not {value!r}")


async def cmd_forces_set(settings: Settings, args: argparse.Namespace, out: TextIO) -> int:
    delays = None
    if args.delay:
        delays = {}
        for item in args.delay:
            kind, _, minutes = item.partition("=")
            if not minutes.isdigit():
                raise UsageError(f"--delay {item!r}: write KIND=MINUTES, e.g. patrol=60")
            delays[kind] = int(minutes)
    change = forces.SettingsChange(
        moderation_policy=ModerationPolicy(args.policy) if args.policy else None,
        require_welsh=_yes_no(args.require_welsh, "--require-welsh"),
        officers_post_force_wide=_yes_no(args.force_wide, "--force-wide"),
        publication_delays=delays,
        reject_reasons=[r.strip() for r in args.reject_reasons.split(",")]
        if args.reject_reasons
        else None,
        approval_grace_minutes=args.grace_minutes,
        retention_days=args.retention_days if args.retention_days not in (None, 0) else None,
        clear_retention=args.retention_days == 0,
    )
    async with db.db_session(settings):
        found = await forces.update_settings(None, args.force_id, change, now=utcnow())
    where = "force-wide" if found.officers_post_force_wide else "in their team areas"
    out.write(
        f"{args.force_id}: policy {found.moderation_policy.value}, "
        f"welsh {'required' if found.require_welsh else 'optional'}, "
        f"officers post {where}, "
        f"delays {found.publication_delays or 'none'}, "
        f"retention {f'{found.retention_days} days' if found.retention_days else 'none'}\n"
    )
    return 0


async def cmd_channels_add(settings: Settings, args: argparse.Namespace, out: TextIO) -> int:
    import json

    from beat import channel_accounts
    from beat.credentials import CredentialBox

    if not args.credentials_stdin:
        raise UsageError("give the account's credentials as JSON on stdin with --credentials-stdin")
    raw = sys.stdin.read()
    try:
        creds = json.loads(raw)
    except ValueError as exc:
        raise UsageError(f"stdin: not JSON ({exc})") from exc
    codes = [c.strip() for c in (args.neighbourhoods or "").split(",") if c.strip()]
    async with db.db_session(settings):
        view = await channel_accounts.add_account(
            None, args.force, kind=args.kind, name=args.name, neighbourhoods=codes,
            force_wide=args.force_wide, raw_credentials=creds,
            box=CredentialBox(settings.channel_keys_file), now=utcnow(),
        )  # fmt: skip
    where = "every area" if view.account.force_wide else ", ".join(n.name for n in view.areas)
    out.write(f"added {args.kind} account {view.account.id} {view.account.name!r} for {where}\n")
    return 0


async def cmd_channels_list(settings: Settings, args: argparse.Namespace, out: TextIO) -> int:
    from beat import channel_accounts

    async with db.db_session(settings):
        views = await channel_accounts.list_accounts(None, args.force)
    for view in views:
        account = view.account
        where = "every area" if account.force_wide else ", ".join(n.code for n in view.areas)
        state = "healthy" if account.healthy else f"UNHEALTHY ({account.last_error})"
        cells = [str(account.id), account.kind, account.name, account.handle or "-", state, where]
        out.write("\t".join(cells) + "\n")
    return 0


async def cmd_channels_check(settings: Settings, args: argparse.Namespace, out: TextIO) -> int:
    import aiohttp

    from beat import channel_accounts
    from beat.app import channel_factory, check_channels
    from beat.credentials import CredentialBox

    async with aiohttp.ClientSession() as session, db.db_session(settings):
        channel_for = channel_factory(settings, session, CredentialBox(settings.channel_keys_file))
        await check_channels(channel_for, utcnow(), force_id=args.force)
        views = await channel_accounts.list_accounts(None, args.force)
    failing = 0
    for view in views:
        account = view.account
        if account.healthy:
            out.write(f"{account.id} {account.name}: ok ({account.handle})\n")
        else:
            failing += 1
            out.write(f"{account.id} {account.name}: FAILING: {account.last_error}\n")
    return 1 if failing else 0


async def cmd_channels_remove(settings: Settings, args: argparse.Namespace, out: TextIO) -> int:
    from beat import channel_accounts

    async with db.db_session(settings):
        await channel_accounts.remove_account(None, args.force, args.account_id, now=utcnow())
    out.write(f"removed channel account {args.account_id}; its pending deliveries are cancelled\n")
    return 0


async def cmd_keys_rotate(settings: Settings, args: argparse.Namespace, out: TextIO) -> int:
    kid = tokens.generate_key(settings.signing_keys_dir)
    out.write(f"new signing key {kid}; restart or wait for processes to pick it up\n")
    return 0


def _serve(settings: Settings, host: str, port: int, *, api: bool = True) -> None:
    from aiohttp import web

    from beat.app import create_app

    app = create_app(settings, api=api)
    web.run_app(app, host=host, port=port, access_log=None, print=None)


async def _migrate_quietly(settings: Settings, out: TextIO) -> None:
    applied = await db.migrate(settings)
    if applied:
        out.write(f"applied {len(applied)} migration(s)\n")


def cmd_serve(settings: Settings, args: argparse.Namespace, out: TextIO) -> int:
    if args.migrate:
        asyncio.run(_migrate_quietly(settings, out))
    if not args.scheduler:
        settings = dataclasses.replace(settings, background_jobs=False)
    out.write(f"Beat listening on http://{args.host}:{args.port}\n")
    out.flush()
    _serve(settings, args.host, args.port)
    return 0


async def _demo_setup(settings: Settings, out: TextIO) -> None:
    await _migrate_quietly(settings, out)
    tokens.KeyRing.load(settings.signing_keys_dir)
    from beat.policeuk.folder import FolderSource

    folder = resources.files("beat") / "demo_data" / "policeuk"
    async with db.db_session(settings):
        with resources.as_file(folder) as path:
            result = await areas.sync_force(FolderSource(Path(path)), DEMO_FORCE, now=utcnow())
        out.write(f"loaded {result.total} City of London neighbourhoods (the City's wards)\n")
        await _demo_crimes(out)
        for email, role, team, name in DEMO_ACCOUNTS:
            if await User.exists(email=email):
                continue
            await accounts.create_user(
                None,
                email=email,
                role=role,
                password=DEMO_PASSWORD,
                force_id=None if role == Role.RESIDENT else DEMO_FORCE,
                team_code=team,
                display_name=name,
            )
        await _demo_posts(out)


async def _demo_crimes(out: TextIO) -> None:
    """The nine sample months of City of London street crime (police.uk, OGL)."""
    from beat import crimes

    folder = resources.files("beat") / "demo_data" / "police-uk"
    with resources.as_file(folder) as path:
        for file in crimes.crime_files([path]):
            summary = await crimes.import_file(
                file, now=utcnow(), progress=_progress(file.name, "line")
            )
            out.write(
                f"crime data {', '.join(summary.months)}: {summary.rows} records, "
                f"{summary.assigned} in a ward ({summary.created} new)\n"
            )
    out.write(
        "crime data: data.police.uk. Contains public sector information licensed under the "
        "Open Government Licence v3.0.\n"
    )


DEMO_TEMPLATES = (
    ("Patrol", "Patrolling {street} tonight after reports of {issue}.", "patrol"),
    ("Beat surgery", "Come and meet your local team at {place} on {day} from {time}.", "event"),
    ("Bike security", "Bike thefts reported around {street}. Lock your bike to a stand, "
     "and register it free at bikeregister.com.", "advice"),
)  # fmt: skip
DEMO_POSTS = (
    "Patrolling Aldersgate Street and the Barbican highwalks this evening after reports of bike "
    "thefts. Lock your bike to a stand and register it free at bikeregister.com.",
    # A live case: the checks send this one to the comms desk.
    "Thanks to all who called in. A man was arrested on Aldersgate Street last night, charged "
    "with burglary and remanded to appear at City of London Magistrates' Court on Monday.",
)


async def _demo_posts(out: TextIO) -> None:
    """Templates and two posts by the demo officer: one published, one waiting on the desk."""
    import uuid

    from beat import posts, templates
    from beat.areas import AreaLocator
    from beat.models import Template

    admin = await User.get(email="admin@demo.beat")
    if not await Template.filter(force_id=DEMO_FORCE).exists():
        for title, body, kind in DEMO_TEMPLATES:
            await templates.create_template(
                admin, DEMO_FORCE, title=title, body=body, kind=kind, now=utcnow()
            )
    officer = await User.get(email="officer@demo.beat")
    locator = AreaLocator()
    for i, text in enumerate(DEMO_POSTS):
        # Fixed keys: running the demo again finds these posts instead of making new ones.
        key = uuid.uuid5(uuid.NAMESPACE_URL, f"beat-demo-post-{i}")
        view, _ = await posts.create_post(
            officer,
            posts.PostInput(text=text, neighbourhoods=[DEMO_AREA]),
            idempotency_key=key,
            now=utcnow(),
            locator=locator,
        )
        out.write(f"demo post {view.post.id}: {view.post.status.value}\n")


def cmd_worker(settings: Settings, args: argparse.Namespace, out: TextIO) -> int:
    """The scheduler and the delivery worker, with /healthz and /metrics on a port of their own."""
    out.write(f"Beat worker; health and metrics on http://{args.host}:{args.port}\n")
    out.flush()
    _serve(dataclasses.replace(settings, background_jobs=True), args.host, args.port, api=False)
    return 0


def cmd_demo(settings: Settings, args: argparse.Namespace, out: TextIO) -> int:
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    base = f"http://{args.host}:{args.port}"
    if "BEAT_PUBLIC_BASE_URL" not in os.environ:  # links in feeds point at this demo server
        settings = dataclasses.replace(settings, public_base_url=base)
    asyncio.run(_demo_setup(settings, out))
    out.write(
        f"""
Beat demo: data in {settings.data_dir.resolve()}
Accounts (password for all: {DEMO_PASSWORD}):
"""
    )
    for email, role, _team, _name in DEMO_ACCOUNTS:
        out.write(f"  {role.value:<12} {email}\n")
    out.write(
        f"""
The feed of Aldersgate ward (its posts and the real police.uk crime cards):
  {base}/v1/areas/{DEMO_FORCE}/{DEMO_AREA}/feed
  {base}/v1/areas/{DEMO_FORCE}/{DEMO_AREA}/crime-stats
  {base}/areas/{DEMO_FORCE}/{DEMO_AREA}/feed.atom
  {base}/v1/areas/{DEMO_FORCE}/{DEMO_AREA}/crimes.geojson
(The City of London Police's neighbourhoods stand in as the City's 25 wards, from ONS.)
Try:
  curl {base}/v1/forces/{DEMO_FORCE}/neighbourhoods
  curl '{base}/v1/areas/locate?lat=51.5155&lng=-0.0922'
  curl '{base}/v1/areas/search?q=farringdon'
  curl -s -X POST {base}/v1/auth/login -H 'Content-Type: application/json' \\
       -d '{{"email": "officer@demo.beat", "password": "{DEMO_PASSWORD}"}}'
  curl {base}/v1/me -H 'Authorization: Bearer <access_token from the login>'
  curl {base}/v1/me/posts -H 'Authorization: Bearer <the officer's token>'
  curl {base}/v1/moderation/queue -H 'Authorization: Bearer <comms@demo.beat's token>'
  {base}/healthz   {base}/metrics
Press Ctrl+C to stop.
"""
    )
    if args.no_serve:
        return 0
    out.flush()
    _serve(settings, args.host, args.port)
    return 0


# ---- parsing -------------------------------------------------------------------------------

AsyncCommand = Callable[[Settings, argparse.Namespace, TextIO], Coroutine[Any, Any, int]]


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="beat", description="Neighbourhood policing updates.")
    parser.add_argument("--log-level", default="INFO", help="logging level (default INFO)")
    sub = parser.add_subparsers(dest="command", required=True)

    serve = sub.add_parser("serve", help="run the HTTP service")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=8080)
    serve.add_argument(
        "--no-migrate", dest="migrate", action="store_false",
        help="refuse to start if migrations are pending instead of applying them",
    )  # fmt: skip
    serve.add_argument(
        "--no-scheduler", dest="scheduler", action="store_false",
        help="serve the API only; run `beat worker` for scheduled jobs and deliveries",
    )  # fmt: skip
    serve.set_defaults(sync_handler=cmd_serve)

    worker = sub.add_parser("worker", help="run scheduled jobs and deliveries (no API)")
    worker.add_argument("--host", default="127.0.0.1")
    worker.add_argument("--port", type=int, default=8081)
    worker.set_defaults(sync_handler=cmd_worker)

    demo = sub.add_parser("demo", help="set up demo areas and accounts, then serve")
    demo.add_argument("--host", default="127.0.0.1")
    demo.add_argument("--port", type=int, default=8080)
    demo.add_argument("--no-serve", action="store_true", help="set up and exit")
    demo.set_defaults(sync_handler=cmd_demo)

    migrate = sub.add_parser("migrate", help="apply database migrations")
    migrate.set_defaults(handler=cmd_migrate)

    users = sub.add_parser("users", help="manage accounts").add_subparsers(
        dest="users_command", required=True
    )
    add = users.add_parser("add", help="create an account")
    add.add_argument("--email", required=True)
    add.add_argument("--role", required=True, choices=[r.value for r in Role])
    add.add_argument("--force", help="force id (not for residents)")
    add.add_argument("--team", help="team id (officers)")
    add.add_argument("--display-name")
    add.add_argument("--password-stdin", action="store_true", help="read the password from stdin")
    add.set_defaults(handler=cmd_users_add)

    area = sub.add_parser("areas", help="forces and neighbourhoods").add_subparsers(
        dest="areas_command", required=True
    )
    sync = area.add_parser("sync", help="load a force's neighbourhoods and boundaries")
    sync.add_argument("force_id")
    sync.add_argument("--source", help="police.uk API base URL or a folder laid out like it")
    sync.set_defaults(handler=cmd_areas_sync)
    geojson = area.add_parser(
        "import-geojson",
        help="create or update neighbourhoods from GeoJSON files, one area per feature",
        description="Reads FeatureCollections, single Features or GeoJSON lines (one Feature a "
        "line); Polygon and MultiPolygon geometries in WGS84 longitude/latitude. The force "
        "must exist; areas not in the files are left as they are. All files are imported in "
        "one transaction, or none of them.",
    )
    geojson.add_argument("force_id")
    geojson.add_argument("files", nargs="+", metavar="FILE")
    geojson.add_argument(
        "--id-property", metavar="NAME", help="the property holding each area's id "
        "(default: `id`, then the feature's own id, then an ONS code such as wd19cd, then `code`)",
    )  # fmt: skip
    geojson.add_argument(
        "--name-property", metavar="NAME", help="the property holding each area's name "
        "(default: `name`, then an ONS name such as wd19nm, else the id)",
    )  # fmt: skip
    geojson.set_defaults(handler=cmd_areas_import_geojson)

    crime = sub.add_parser("crimes", help="police.uk crime data").add_subparsers(
        dest="crimes_command", required=True
    )
    crime_import = crime.add_parser(
        "import", help="import street/outcomes CSVs and API JSON responses (files or folders)"
    )
    crime_import.add_argument("paths", nargs="+", metavar="PATH")
    crime_import.add_argument(
        "--force", help="the force of API JSON responses (they don't name it); CSVs name theirs"
    )
    crime_import.set_defaults(handler=cmd_crimes_import)
    crime_sync = crime.add_parser(
        "sync", help="import a month of street-level crimes for a force's neighbourhoods"
    )
    crime_sync.add_argument("force_id")
    crime_sync.add_argument("--month", metavar="YYYY-MM", help="default: police.uk's newest")
    crime_sync.add_argument(
        "--source", metavar="URL_OR_DIR",
        help="police.uk API base URL (default BEAT_POLICEUK_BASE_URL) or a folder laid out like it",
    )  # fmt: skip
    crime_sync.set_defaults(handler=cmd_crimes_sync)

    team = sub.add_parser("teams", help="neighbourhood policing teams").add_subparsers(
        dest="teams_command", required=True
    )
    team_add = team.add_parser("add", help="create a team (e.g. a district team)")
    team_add.add_argument("--force", required=True)
    team_add.add_argument("--id", required=True)
    team_add.add_argument("--name", required=True)
    team_add.set_defaults(handler=cmd_teams_add)
    assign = team.add_parser("assign", help="give a team more neighbourhoods")
    assign.add_argument("--force", required=True)
    assign.add_argument("--team", required=True)
    assign.add_argument("--neighbourhoods", required=True, help="ID[,ID...]")
    assign.set_defaults(handler=cmd_teams_assign)

    force = sub.add_parser("forces", help="a force's rules for posts").add_subparsers(
        dest="forces_command", required=True
    )
    force_set = force.add_parser("set", help="change a force's moderation policy and settings")
    force_set.add_argument("force_id")
    force_set.add_argument("--policy", choices=[p.value for p in ModerationPolicy])
    force_set.add_argument("--require-welsh", metavar="yes|no")
    force_set.add_argument("--force-wide", metavar="yes|no", help="officers may tag any area")
    force_set.add_argument(
        "--delay", action="append", metavar="KIND=MINUTES", help="publication delay per post kind"
    )
    force_set.add_argument("--reject-reasons", metavar="A,B,...")
    force_set.add_argument("--grace-minutes", type=int, help="expire approvals this late")
    force_set.add_argument("--retention-days", type=int, help="0 keeps content for ever")
    force_set.set_defaults(handler=cmd_forces_set)

    channel = sub.add_parser("channels", help="a force's social channel accounts").add_subparsers(
        dest="channels_command", required=True
    )
    channel_add = channel.add_parser("add", help="connect an account (credentials JSON on stdin)")
    channel_add.add_argument("kind", choices=["x", "mastodon", "bluesky"])
    channel_add.add_argument("--force", required=True)
    channel_add.add_argument("--neighbourhoods", metavar="ID[,ID...]")
    channel_add.add_argument("--force-wide", action="store_true", help="carry every area's posts")
    channel_add.add_argument("--name", required=True)
    channel_add.add_argument("--credentials-stdin", action="store_true")
    channel_add.set_defaults(handler=cmd_channels_add)
    channel_list = channel.add_parser("list", help="the force's accounts and their health")
    channel_list.add_argument("--force", required=True)
    channel_list.set_defaults(handler=cmd_channels_list)
    channel_check = channel.add_parser("check", help="verify every account's credentials")
    channel_check.add_argument("--force", required=True)
    channel_check.set_defaults(handler=cmd_channels_check)
    channel_remove = channel.add_parser("remove", help="stop using an account")
    channel_remove.add_argument("account_id", type=int)
    channel_remove.add_argument("--force", required=True)
    channel_remove.set_defaults(handler=cmd_channels_remove)

    keys = sub.add_parser("keys", help="token signing keys").add_subparsers(
        dest="keys_command", required=True
    )
    rotate = keys.add_parser("rotate", help="make a new signing key; old ones still verify")
    rotate.set_defaults(handler=cmd_keys_rotate)
    return parser


def main(argv: Sequence[str] | None = None, *, out: TextIO | None = None) -> int:
    out = out or sys.stdout
    args = _parser().parse_args(argv)
    logs.configure(args.log_level)
    try:
        settings = Settings.from_env()
        if hasattr(args, "sync_handler"):
            return int(args.sync_handler(settings, args, out))
        handler: AsyncCommand = args.handler
        return asyncio.run(handler(settings, args, out))
    except ConfigError as exc:
        print(f"beat: configuration error: {exc.detail}", file=sys.stderr)
        return 2
    except BeatError as exc:
        detail = exc.detail
        if hasattr(exc, "errors") and exc.errors:
            detail = "; ".join(f"{e.field}: {e.reason}" for e in exc.errors)
        print(f"beat: {detail}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:  # the reader went away (e.g. `beat demo | head`): nothing to say
        return 141
