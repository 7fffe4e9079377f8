"""Every route, through the validating client: happy paths and the problems each can give."""

from __future__ import annotations

import asyncio
import json
import shutil
from typing import Any

import pytest
from aiohttp.test_utils import TestClient

from beat import db as beat_db
from beat.api.keys import DB
from beat.app import create_app
from beat.models import Role
from beat.settings import Settings
from tests.contract.validating import ContractClient
from tests.helpers import (
    ALDERSGATE,
    BISHOPSGATE,
    DEMO_FORCE,
    PASSWORD,
    create_areas,
    create_force,
    create_user,
)

OFFICER = "pc.smith@example.police.uk"
COMMS = "comms@example.police.uk"
ADMIN = "admin@example.police.uk"
RESIDENT = "sam@example.com"
# Inside Cheap ward, in the middle of the City; (0, 0) is in the Gulf of Guinea.
CHEAPSIDE = {"lat": "51.5155", "lng": "-0.0922"}


@pytest.fixture
async def world(db, demo_areas) -> dict[str, int]:
    """The City of London areas and one account of each role; their ids by e-mail."""
    await create_areas(demo_areas)
    users = [
        await create_user(OFFICER, Role.OFFICER),
        await create_user(COMMS, Role.COMMS),
        await create_user(ADMIN, Role.FORCE_ADMIN),
        await create_user(RESIDENT, Role.RESIDENT),
    ]
    return {u.email: u.id for u in users}


async def sign_in(api: ContractClient, email: str, password: str = PASSWORD) -> dict[str, Any]:
    reply = await api.post("/v1/auth/login", json_body={"email": email, "password": password})
    assert reply.status == 200, reply.json
    tokens: dict[str, Any] = reply.json
    return tokens


async def token_for(api: ContractClient, email: str) -> str:
    return str((await sign_in(api, email))["access_token"])


# ---- operations ------------------------------------------------------------------------------


async def test_health_says_the_database_is_up(contract_client):
    reply = await contract_client.get("/healthz")
    assert reply.status == 200
    assert reply.json == {"status": "ok", "database": "up"}


async def test_health_is_503_when_the_database_is_gone(aiohttp_client, tmp_path, keys_dir):
    # Its own SQLite app, even on PostgreSQL runs: the database is taken away for real.
    folder = tmp_path / "gone"
    folder.mkdir()
    # No background jobs: in a PostgreSQL run they would insert through tortoise's per-model
    # query cache with SQLite's SQL, and the next PostgreSQL test's insert would reuse it.
    settings = Settings(
        data_dir=tmp_path, database_url=f"sqlite://{folder / 'beat.sqlite3'}", keys_dir=keys_dir,
        background_jobs=False,
    )  # fmt: skip
    await beat_db.migrate(settings)
    app = create_app(settings)
    api = ContractClient(await aiohttp_client(app))
    assert (await api.get("/healthz")).status == 200
    await app[DB].close_connections()
    shutil.rmtree(folder)  # the next connection cannot open the file
    reply = await api.get("/healthz")
    assert reply.status == 503
    assert reply.json == {"status": "unavailable", "database": "down"}


async def test_metrics_are_prometheus_text(contract_client):
    await contract_client.get("/healthz")
    reply = await contract_client.get("/metrics")
    assert reply.status == 200
    assert reply.content_type == "text/plain"
    assert b'beat_http_requests_total{method="GET",route="/healthz",status="200"}' in reply.body


# ---- sign-in ---------------------------------------------------------------------------------


async def test_sign_in_gives_a_bearer_token_pair(contract_client, world):
    tokens = await sign_in(contract_client, OFFICER)
    assert tokens["token_type"] == "Bearer"
    assert tokens["user"]["team"] == {"id": ALDERSGATE, "name": "Aldersgate"}
    me = await contract_client.get("/v1/me", token=tokens["access_token"])
    assert me.status == 200
    assert me.json["email"] == OFFICER
    assert me.headers["Cache-Control"] == "no-store"


async def test_wrong_password_is_401_with_a_challenge(contract_client, world):
    reply = await contract_client.post(
        "/v1/auth/login", json_body={"email": OFFICER, "password": "not the password"}
    )
    assert reply.status == 401
    assert reply.problem_type == "/problems/unauthenticated"
    assert reply.headers["WWW-Authenticate"].startswith("Bearer ")


async def test_repeated_failures_are_429_with_retry_after(contract_client, world, settings):
    wrong = {"email": OFFICER, "password": "not the password"}
    for _ in range(settings.login_failures_per_account):
        assert (await contract_client.post("/v1/auth/login", json_body=wrong)).status == 401
    reply = await contract_client.post(
        "/v1/auth/login", json_body={"email": OFFICER, "password": PASSWORD}
    )
    assert reply.status == 429
    assert reply.problem_type == "/problems/throttled"
    assert int(reply.headers["Retry-After"]) > 0


async def test_refresh_swaps_the_pair_and_a_stale_token_ends_the_session(
    contract_client, world, clock
):
    first = await sign_in(contract_client, OFFICER)
    second = await contract_client.post(
        "/v1/auth/refresh", json_body={"refresh_token": first["refresh_token"]}
    )
    assert second.status == 200
    assert second.json["refresh_token"] != first["refresh_token"]
    clock.advance(minutes=1)  # past the grace for a phone that lost the answer
    stale = await contract_client.post(
        "/v1/auth/refresh", json_body={"refresh_token": first["refresh_token"]}
    )
    assert stale.status == 401
    ended = await contract_client.post(
        "/v1/auth/refresh", json_body={"refresh_token": second.json["refresh_token"]}
    )
    assert ended.status == 401


async def test_an_unknown_refresh_token_is_401(contract_client, world):
    reply = await contract_client.post("/v1/auth/refresh", json_body={"refresh_token": "rt_nope"})
    assert reply.status == 401
    assert reply.problem_type == "/problems/unauthenticated"


async def test_logout_ends_the_session(contract_client, world):
    token = await token_for(contract_client, OFFICER)
    assert (await contract_client.post("/v1/auth/logout", token=token)).status == 204
    assert (await contract_client.get("/v1/me", token=token)).status == 401


async def test_residents_register_and_then_sign_in(contract_client, db):
    reply = await contract_client.post(
        "/v1/auth/register",
        json_body={"email": " Kim@Example.com ", "password": PASSWORD, "display_name": "Kim"},
    )
    assert reply.status == 201
    assert reply.json["role"] == "resident"
    assert reply.json["email"] == "kim@example.com"
    assert reply.json["force"] is None
    assert (await sign_in(contract_client, "kim@example.com"))["user"]["id"] == reply.json["id"]


async def test_registering_a_taken_address_is_409(contract_client, world):
    reply = await contract_client.post(
        "/v1/auth/register", json_body={"email": RESIDENT, "password": PASSWORD}
    )
    assert reply.status == 409
    assert reply.problem_type == "/problems/conflict"


async def test_a_flood_of_registrations_is_429(contract_client, db):
    statuses = []
    for n in range(12):
        body = {"email": f"flood{n}@example.com", "password": PASSWORD}
        statuses.append((await contract_client.post("/v1/auth/register", json_body=body)).status)
    assert statuses[0] == 201
    assert statuses[-1] == 429


async def test_a_short_password_is_refused_by_contract_and_service(contract_client, db):
    reply = await contract_client.post(
        "/v1/auth/register",
        json_body={"email": "kim@example.com", "password": "short"},
        off_contract=True,
    )
    assert reply.status == 422
    assert reply.json["errors"] == [
        {"field": "password", "reason": "must be at least 12 characters"}
    ]


async def test_a_malformed_email_is_422(contract_client, db):
    reply = await contract_client.post(
        "/v1/auth/register",
        json_body={"email": "kim@localhost", "password": PASSWORD},
    )
    assert reply.status == 422
    assert reply.json["errors"][0]["field"] == "email"


# ---- bodies: the problems every body route shares ---------------------------------------------

BODY_ROUTES = [
    ("POST", "/v1/auth/login"),
    ("POST", "/v1/auth/refresh"),
    ("POST", "/v1/auth/register"),
    ("POST", f"/v1/forces/{DEMO_FORCE}/users"),
    ("PATCH", "/v1/users/{officer}"),
    ("POST", f"/v1/forces/{DEMO_FORCE}/teams"),
    ("POST", f"/v1/forces/{DEMO_FORCE}/teams/{ALDERSGATE}/neighbourhoods"),
]


def _route(path: str, world: dict[str, int]) -> str:
    return path.format(officer=world[OFFICER])


@pytest.fixture
async def admin_token(contract_client, world) -> str:
    return await token_for(contract_client, ADMIN)


@pytest.mark.parametrize(("method", "path"), BODY_ROUTES)
async def test_bad_json_is_400(contract_client, world, admin_token, method, path):
    reply = await contract_client.request(
        method,
        _route(path, world),
        data=b'{"email": "a@b.co",',
        headers={"Content-Type": "application/json"},
        token=admin_token,
        off_contract=True,
    )
    assert reply.status == 400
    assert reply.problem_type == "/problems/bad-request"


@pytest.mark.parametrize(("method", "path"), BODY_ROUTES)
async def test_a_body_that_is_not_json_is_415(contract_client, world, admin_token, method, path):
    reply = await contract_client.request(
        method,
        _route(path, world),
        data=b"email=a%40b.co&password=x",
        headers={"Content-Type": "application/x-www-form-urlencoded"},
        token=admin_token,
        off_contract=True,
    )
    assert reply.status == 415
    assert reply.problem_type == "/problems/unsupported-media-type"


@pytest.mark.parametrize(("method", "path"), BODY_ROUTES)
async def test_unknown_fields_are_422(contract_client, world, admin_token, method, path):
    reply = await contract_client.request(
        method,
        _route(path, world),
        json_body={"remember_me": True},
        token=admin_token,
        off_contract=True,
    )
    assert reply.status == 422
    assert {"field": "/remember_me", "reason": "Extra inputs are not permitted"} in reply.json[
        "errors"
    ]


@pytest.mark.parametrize(("method", "path"), BODY_ROUTES)
async def test_a_body_over_the_limit_is_413(contract_client, world, admin_token, method, path):
    # Valid by the contract: JSON may carry any amount of whitespace.
    body = {"refresh_token": "rt_x"} if path.endswith("refresh") else {"email": "a@b.co"}
    if method == "PATCH":
        body = {"display_name": "x"}
    elif path.endswith("teams"):
        body = {"id": "north", "name": "City North"}
    elif path.endswith("neighbourhoods"):
        body = {"neighbourhoods": [BISHOPSGATE]}
    elif path.endswith(("login", "register", "users")):
        body["password"] = PASSWORD
    if path.endswith("users"):
        body["role"] = "comms"
    padded = json.dumps(body).encode()[:-1] + b" " * (70 * 1024) + b"}"
    reply = await contract_client.request(
        method,
        _route(path, world),
        data=padded,
        headers={"Content-Type": "application/json"},
        token=admin_token,
    )
    assert reply.status == 413
    assert reply.problem_type == "/problems/body-too-large"


@pytest.mark.parametrize(
    "raw",
    [
        b"[]",
        b"null",
        b'{"email": NaN, "password": "x"}',
        b'{"email": "\xff", "password": "x"}',
        b'{"email": 12, "password": "x"}',
        b"[" * 20_000 + b"]" * 20_000,
        b'{"email": ' + b'{"a": ' * 5_000 + b"1" + b"}" * 5_000 + b', "password": "x"}',
    ],
    ids=["array", "null", "nan", "not-utf8", "number", "deep-array", "deep-object"],
)
async def test_hostile_bodies_are_problems_not_errors(contract_client, db, raw):
    reply = await contract_client.post(
        "/v1/auth/login",
        data=raw,
        headers={"Content-Type": "application/json"},
        off_contract=True,
    )
    assert reply.status in (400, 422)


# ---- the signed-in account --------------------------------------------------------------------

AUTHENTICATED = [
    ("GET", "/v1/me"),
    ("GET", "/v1/me/areas"),
    ("POST", "/v1/auth/logout"),
    ("GET", f"/v1/forces/{DEMO_FORCE}/users"),
    ("GET", "/v1/users/1"),
    ("GET", f"/v1/forces/{DEMO_FORCE}/teams"),
]


@pytest.mark.parametrize(("method", "path"), AUTHENTICATED)
async def test_no_token_is_401(contract_client, db, method, path):
    reply = await contract_client.request(method, path, off_contract=True)
    assert reply.status == 401
    assert reply.problem_type == "/problems/unauthenticated"


@pytest.mark.parametrize(("method", "path"), AUTHENTICATED)
async def test_a_garbage_token_is_401(contract_client, db, method, path):
    reply = await contract_client.request(method, path, token="not.a.jwt")
    assert reply.status == 401


async def test_staff_see_their_working_areas(contract_client, world):
    officer = await contract_client.get(
        "/v1/me/areas", token=await token_for(contract_client, OFFICER)
    )
    assert [a["id"] for a in officer.json["items"]] == [ALDERSGATE]
    comms = await contract_client.get("/v1/me/areas", token=await token_for(contract_client, COMMS))
    assert len(comms.json["items"]) == 25


async def test_residents_have_no_working_areas(contract_client, world):
    reply = await contract_client.get(
        "/v1/me/areas", token=await token_for(contract_client, RESIDENT)
    )
    assert reply.status == 403
    assert reply.problem_type == "/problems/forbidden"


# ---- forces and areas -------------------------------------------------------------------------


async def test_forces_list_and_detail(contract_client, world):
    listed = await contract_client.get("/v1/forces")
    assert listed.json["items"][0]["links"]["self"] == f"/v1/forces/{DEMO_FORCE}"
    assert listed.headers["Cache-Control"] == "public, max-age=300"
    force = await contract_client.get(f"/v1/forces/{DEMO_FORCE}")
    assert force.status == 200
    assert force.json["name"] == "City of London Police"


async def test_an_unknown_force_is_404(contract_client, db):
    for path in ("/v1/forces/atlantis", "/v1/forces/atlantis/neighbourhoods"):
        reply = await contract_client.get(path)
        assert reply.status == 404
        assert reply.problem_type == "/problems/not-found"


async def test_unknown_query_parameters_are_422(contract_client, world):
    for path in ("/v1/forces", f"/v1/forces/{DEMO_FORCE}/neighbourhoods"):
        reply = await contract_client.get(path, params={"page": "2"})
        assert reply.status == 422
        assert reply.json["errors"] == [
            {"field": "page", "reason": "is not a parameter of this route"}
        ]


async def test_a_forces_neighbourhoods(contract_client, world):
    reply = await contract_client.get(f"/v1/forces/{DEMO_FORCE}/neighbourhoods")
    assert reply.status == 200
    assert len(reply.json["items"]) == 25
    assert reply.json["items"][0]["name"] == "Aldersgate"


async def test_an_area_with_its_boundary(contract_client, world):
    reply = await contract_client.get(f"/v1/areas/{DEMO_FORCE}/{BISHOPSGATE}")
    assert reply.status == 200
    assert reply.json["boundary"]["type"] in ("Polygon", "MultiPolygon")
    assert reply.json["team"] == {"id": BISHOPSGATE, "name": "Bishopsgate"}


async def test_an_unknown_area_is_404(contract_client, world):
    reply = await contract_client.get(f"/v1/areas/{DEMO_FORCE}/E00000000")
    assert reply.status == 404
    assert reply.problem_type == "/problems/not-found"


async def test_locate_finds_the_area_at_a_point(contract_client, world):
    reply = await contract_client.get("/v1/areas/locate", params=CHEAPSIDE)
    assert reply.status == 200
    assert reply.json["name"] == "Cheap"
    assert reply.headers["Cache-Control"] == "no-store"


async def test_locate_outside_every_area_is_404(contract_client, world):
    reply = await contract_client.get("/v1/areas/locate", params={"lat": "0", "lng": "0"})
    assert reply.status == 404
    assert reply.problem_type == "/problems/not-found"


@pytest.mark.parametrize(
    ("params", "field", "off_contract"),
    [
        ({"lat": "91", "lng": "0"}, "lat", True),
        ({"lat": "0", "lng": "-180.5"}, "lng", True),
        ({"lat": "north", "lng": "0"}, "lat", True),
        ({"lat": "51.5"}, "lng", True),
        # Neither can be said in OpenAPI (a query "number" may be nan to openapi-core), so
        # the contract's description says it and the service checks it.
        ({"lat": "nan", "lng": "0"}, "lat", False),
        ([("lat", "51.5"), ("lat", "51.6"), ("lng", "0")], "lat", False),
    ],
    ids=["lat-range", "lng-range", "not-a-number", "missing", "nan", "twice"],
)
async def test_locate_refuses_points_not_on_earth(
    contract_client, world, params, field, off_contract
):
    reply = await contract_client.get("/v1/areas/locate", params=params, off_contract=off_contract)
    assert reply.status == 422
    assert field in [e["field"] for e in reply.json["errors"]]


async def test_search_by_name_and_force(contract_client, world):
    reply = await contract_client.get("/v1/areas/search", params={"q": "farringdon"})
    assert [a["name"] for a in reply.json["items"]] == ["Farringdon Within", "Farringdon Without"]
    other = await contract_client.get("/v1/areas/search", params={"q": "farr", "force": "atlantis"})
    assert other.json["items"] == []


async def test_search_needs_two_to_a_hundred_characters(contract_client, world):
    for q in ("a", "x" * 101):
        reply = await contract_client.get("/v1/areas/search", params={"q": q}, off_contract=True)
        assert reply.status == 422
        assert reply.json["errors"][0]["field"] == "q"
    spaces = await contract_client.get("/v1/areas/search", params={"q": "  a  "})
    assert spaces.status == 422


# ---- staff accounts ---------------------------------------------------------------------------


async def test_an_admin_lists_and_reads_their_forces_accounts(contract_client, world, admin_token):
    listed = await contract_client.get(f"/v1/forces/{DEMO_FORCE}/users", token=admin_token)
    assert listed.status == 200
    assert [u["email"] for u in listed.json["items"]] == sorted([OFFICER, COMMS, ADMIN])
    one = await contract_client.get(f"/v1/users/{world[OFFICER]}", token=admin_token)
    assert one.json["team"] == {"id": ALDERSGATE, "name": "Aldersgate"}


async def test_an_admin_creates_an_officer_once(contract_client, world, admin_token):
    body = {"email": "pc.jones@example.police.uk", "password": PASSWORD, "role": "officer"}
    body["team"] = BISHOPSGATE
    path = f"/v1/forces/{DEMO_FORCE}/users"
    created = await contract_client.post(path, json_body=body, token=admin_token)
    assert created.status == 201
    assert created.json["team"]["id"] == BISHOPSGATE
    again = await contract_client.post(path, json_body=body, token=admin_token)
    assert again.status == 409


@pytest.mark.parametrize(
    ("body", "field", "off_contract"),
    [
        ({"role": "officer"}, "team", False),
        ({"role": "officer", "team": "E00000000"}, "team", False),
        ({"role": "comms", "email": "pc@localhost"}, "email", False),
        ({"role": "comms", "email": "not-an-address"}, "email", True),
        ({"role": "comms", "password": " " * 12}, "password", False),
    ],
    ids=["officer-without-team", "unknown-team", "local-email", "not-email", "blank-password"],
)
async def test_an_admin_gets_422_for_unacceptable_accounts(
    contract_client, world, admin_token, body, field, off_contract
):
    payload = {"email": "new@example.police.uk", "password": PASSWORD, **body}
    reply = await contract_client.post(
        f"/v1/forces/{DEMO_FORCE}/users",
        json_body=payload,
        token=admin_token,
        off_contract=off_contract,
    )
    assert reply.status == 422
    assert reply.json["errors"][0]["field"] == field


async def test_residents_cannot_be_created_by_admins(contract_client, world, admin_token):
    payload = {"email": "new@example.com", "password": PASSWORD, "role": "resident"}
    reply = await contract_client.post(
        f"/v1/forces/{DEMO_FORCE}/users", json_body=payload, token=admin_token, off_contract=True
    )
    assert reply.status == 422
    assert reply.json["errors"][0]["field"] == "/role"


@pytest.mark.parametrize("who", [OFFICER, COMMS, RESIDENT])
async def test_only_admins_manage_accounts(contract_client, world, who):
    token = await token_for(contract_client, who)
    payload = {"email": "new@example.police.uk", "password": PASSWORD, "role": "comms"}
    calls = [
        ("GET", f"/v1/forces/{DEMO_FORCE}/users", None),
        ("POST", f"/v1/forces/{DEMO_FORCE}/users", payload),
        ("GET", f"/v1/users/{world[OFFICER]}", None),
        ("PATCH", f"/v1/users/{world[OFFICER]}", {"display_name": "x"}),
    ]
    for method, path, body in calls:
        reply = await contract_client.request(method, path, json_body=body, token=token)
        assert reply.status == 403, (method, path)
        assert reply.problem_type == "/problems/forbidden"


async def test_another_forces_admin_sees_nothing_of_this_force(contract_client, world):
    await create_force("elsewhere", teams=("T1",))
    await create_user("admin@elsewhere.police.uk", Role.FORCE_ADMIN, force="elsewhere")
    token = await token_for(contract_client, "admin@elsewhere.police.uk")
    listed = await contract_client.get(f"/v1/forces/{DEMO_FORCE}/users", token=token)
    assert listed.status == 403
    one = await contract_client.get(f"/v1/users/{world[OFFICER]}", token=token)
    assert one.status == 404
    changed = await contract_client.patch(
        f"/v1/users/{world[OFFICER]}", json_body={"disabled": True}, token=token
    )
    assert changed.status == 404


async def test_residents_and_missing_accounts_are_404_to_admins(
    contract_client, world, admin_token
):
    for user_id in (world[RESIDENT], 999_999, 2_147_483_647):
        reply = await contract_client.get(f"/v1/users/{user_id}", token=admin_token)
        assert reply.status == 404
        assert reply.problem_type == "/problems/not-found"


@pytest.mark.parametrize(
    "user_id", ["abc", "0x10", "-1", "0", "2147483648", "9" * 12, "9" * 13, "²", "١٢"]
)
async def test_user_ids_outside_the_contract_are_404(contract_client, world, admin_token, user_id):
    reply = await contract_client.get(f"/v1/users/{user_id}", token=admin_token, off_contract=True)
    assert reply.status == 404


async def test_an_admin_disables_an_officer_and_their_tokens_stop(
    contract_client, world, admin_token
):
    officer_token = await token_for(contract_client, OFFICER)
    reply = await contract_client.patch(
        f"/v1/users/{world[OFFICER]}",
        json_body={"disabled": True, "display_name": "PC Smith"},
        token=admin_token,
    )
    assert reply.status == 200
    assert reply.json["disabled"] is True
    assert reply.json["display_name"] == "PC Smith"
    assert (await contract_client.get("/v1/me", token=officer_token)).status == 401


async def test_an_admin_moves_an_officer_and_cannot_leave_them_teamless(
    contract_client, world, admin_token
):
    path = f"/v1/users/{world[OFFICER]}"
    moved = await contract_client.patch(path, json_body={"team": BISHOPSGATE}, token=admin_token)
    assert moved.json["team"]["id"] == BISHOPSGATE
    teamless = await contract_client.patch(path, json_body={"team": None}, token=admin_token)
    assert teamless.status == 422
    comms = await contract_client.patch(
        path, json_body={"role": "comms", "team": None}, token=admin_token
    )
    assert comms.status == 200
    assert (comms.json["role"], comms.json["team"]) == ("comms", None)


async def test_an_admin_cannot_disable_themselves(contract_client, world, admin_token):
    reply = await contract_client.patch(
        f"/v1/users/{world[ADMIN]}", json_body={"disabled": True}, token=admin_token
    )
    assert reply.status == 403


# ---- hostile input: problems, never errors -----------------------------------------------------

NUL_REQUESTS = [
    ("POST", "/v1/auth/login", {"email": "a\x00@b.co", "password": "x"}, None),
    (
        "POST",
        "/v1/auth/register",
        {"email": "kim@example.com", "password": PASSWORD + "\x00"},
        None,
    ),
    (
        "POST",
        "/v1/auth/register",
        {"email": "kim@example.com", "password": PASSWORD, "display_name": "\x00"},
        None,
    ),
    ("POST", "/v1/auth/refresh", {"refresh_token": "rt_\x00"}, None),
    ("GET", "/v1/areas/search", None, {"q": "\x00\x00"}),
    ("GET", "/v1/areas/search", None, {"q": "ald", "force": "\x00"}),
]


@pytest.mark.parametrize(("method", "path", "body", "params"), NUL_REQUESTS)
async def test_nul_characters_are_refused(contract_client, world, method, path, body, params):
    # Valid JSON and valid by the contract, but PostgreSQL cannot hold or compare them.
    reply = await contract_client.request(method, path, json_body=body, params=params)
    assert reply.status in (401, 422)


@pytest.mark.parametrize(
    ("path", "off_contract"),
    [
        ("/v1/forces/%00", False),
        ("/v1/forces/%00/neighbourhoods", False),
        (f"/v1/areas/{DEMO_FORCE}/%00", False),
        # Longer than any stored id: the ORM would refuse to even look them up.
        (f"/v1/forces/{'f' * 65}", True),
        (f"/v1/forces/{'f' * 65}/neighbourhoods", True),
        (f"/v1/areas/{'f' * 65}/{ALDERSGATE}", True),
        (f"/v1/areas/{DEMO_FORCE}/{'E' * 101}", True),
    ],
)
async def test_names_that_cannot_exist_find_nothing(contract_client, world, path, off_contract):
    reply = await contract_client.get(path, off_contract=off_contract)
    assert reply.status == 404
    assert reply.problem_type == "/problems/not-found"


async def raw_exchange(client: TestClient, head: bytes, body: bytes = b"") -> tuple[int, bytes]:
    """Send bytes aiohttp's client will not send (it drops undecodable header bytes)."""
    reader, writer = await asyncio.open_connection(client.host, client.port)
    length = f"Content-Length: {len(body)}\r\n".encode()
    writer.write(head + b"Host: beat\r\nConnection: close\r\n" + length + b"\r\n" + body)
    await writer.drain()
    answer = await reader.read()
    writer.close()
    await writer.wait_closed()
    status_line, _, rest = answer.partition(b"\r\n")
    return int(status_line.split()[1]), rest


async def test_header_bytes_that_are_not_utf8_are_no_trouble(client, world):
    # aiohttp hands such bytes to handlers as lone surrogates; they must never reach a database.
    body = json.dumps({"email": OFFICER, "password": PASSWORD}).encode()
    status, _ = await raw_exchange(
        client,
        b"POST /v1/auth/login HTTP/1.1\r\nContent-Type: application/json\r\n"
        b"User-Agent: Beat/1.0 \xff\xfe\r\n",
        body,
    )
    assert status == 200
    status, rest = await raw_exchange(
        client, b"GET /v1/me HTTP/1.1\r\nAuthorization: Bearer \xff\xfe\r\n"
    )
    assert status == 401
    assert b"application/problem+json" in rest


# ---- teams ------------------------------------------------------------------------------------


async def test_staff_list_their_forces_teams_with_the_areas_each_covers(contract_client, world):
    reply = await contract_client.get(
        f"/v1/forces/{DEMO_FORCE}/teams", token=await token_for(contract_client, COMMS)
    )
    assert reply.status == 200
    teams = {t["id"]: t for t in reply.json["items"]}
    assert len(teams) == 25
    assert [n["id"] for n in teams[ALDERSGATE]["neighbourhoods"]] == [ALDERSGATE]


async def test_a_resident_may_not_list_teams(contract_client, world):
    reply = await contract_client.get(
        f"/v1/forces/{DEMO_FORCE}/teams", token=await token_for(contract_client, RESIDENT)
    )
    assert reply.status == 403


async def test_an_admin_makes_a_district_team_and_gives_it_wards(contract_client, world):
    token = await token_for(contract_client, ADMIN)
    made = await contract_client.post(
        f"/v1/forces/{DEMO_FORCE}/teams",
        json_body={"id": "city-north", "name": "City North"},
        token=token,
    )
    assert made.status == 201
    assert made.json == {"id": "city-north", "name": "City North", "neighbourhoods": []}
    again = await contract_client.post(
        f"/v1/forces/{DEMO_FORCE}/teams",
        json_body={"id": "city-north", "name": "Again"},
        token=token,
    )
    assert again.status == 409
    given = await contract_client.post(
        f"/v1/forces/{DEMO_FORCE}/teams/city-north/neighbourhoods",
        json_body={"neighbourhoods": [ALDERSGATE, BISHOPSGATE]},
        token=token,
    )
    assert given.status == 200
    assert sorted(n["id"] for n in given.json["neighbourhoods"]) == [ALDERSGATE, BISHOPSGATE]


async def test_assigning_an_unknown_ward_changes_nothing(contract_client, world):
    token = await token_for(contract_client, ADMIN)
    reply = await contract_client.post(
        f"/v1/forces/{DEMO_FORCE}/teams/{ALDERSGATE}/neighbourhoods",
        json_body={"neighbourhoods": [BISHOPSGATE, "E09999999"]},
        token=token,
    )
    assert reply.status == 422
    listing = await contract_client.get(f"/v1/forces/{DEMO_FORCE}/teams", token=token)
    teams = {t["id"]: t for t in listing.json["items"]}
    assert [n["id"] for n in teams[BISHOPSGATE]["neighbourhoods"]] == [BISHOPSGATE]


async def test_officers_and_comms_may_not_change_teams(contract_client, world):
    for who in (OFFICER, COMMS):
        reply = await contract_client.post(
            f"/v1/forces/{DEMO_FORCE}/teams/{ALDERSGATE}/neighbourhoods",
            json_body={"neighbourhoods": [BISHOPSGATE]},
            token=await token_for(contract_client, who),
        )
        assert reply.status == 403


async def test_an_unknown_team_is_404(contract_client, world):
    reply = await contract_client.post(
        f"/v1/forces/{DEMO_FORCE}/teams/nope/neighbourhoods",
        json_body={"neighbourhoods": [BISHOPSGATE]},
        token=await token_for(contract_client, ADMIN),
    )
    assert reply.status == 404
