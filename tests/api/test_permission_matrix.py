"""Every role x route x force: who may, who may not, and that nothing leaks across forces.

Each route is tried by each kind of caller against the City of London's data. A caller who
may not gets 401 (not signed in), 403 (not allowed) or 404 (not theirs to know of); a cross-
force attempt to tag another force's area may also be a 422 (no such area in *your* force).
"""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import pytest

from beat.models import Role
from tests.helpers import (
    ALDERSGATE,
    BISHOPSGATE,
    DEMO_FORCE,
    bearer,
    create_areas,
    create_force,
    create_user,
)

KENT = "kent"
# "officer2" is the author's teammate: same force, same team, not the author.
CALLERS = [
    "anonymous",
    "resident",
    "officer",
    "officer2",
    "comms",
    "admin",
    "kent-officer",
    "kent-comms",
    "kent-admin",
]
CLEAN = "Beat surgery at the library on Tuesday from 6pm. Come and meet your team."
RISKY = "Call me on 07700 900123 about the van in Aldersgate Street."


@pytest.fixture
async def world(client, db, demo_areas):
    await create_areas(demo_areas)
    await create_force(KENT, "Kent Police", teams=("K01",))
    from beat.models import Neighbourhood, Team

    k_team = await Team.get(force_id=KENT, code="K01")
    await Neighbourhood.create(force_id=KENT, code="K01", name="Kent One", team=k_team)
    users = {
        "resident": await create_user("r@example.org", Role.RESIDENT),
        "officer": await create_user("pc@city.police.uk", Role.OFFICER),
        "officer2": await create_user("pc2@city.police.uk", Role.OFFICER),
        "comms": await create_user("comms@city.police.uk", Role.COMMS),
        "comms2": await create_user("comms2@city.police.uk", Role.COMMS),
        "admin": await create_user("admin@city.police.uk", Role.FORCE_ADMIN),
        "kent-officer": await create_user(
            "pc@kent.police.uk", Role.OFFICER, force=KENT, team="K01"
        ),
        "kent-comms": await create_user("comms@kent.police.uk", Role.COMMS, force=KENT),
        "kent-admin": await create_user("admin@kent.police.uk", Role.FORCE_ADMIN, force=KENT),
    }
    headers = {"anonymous": {}}
    for who, user in users.items():
        headers[who] = await bearer(client, user.email)
    return {"users": users, "headers": headers}


async def new_post(client, world, text: str = RISKY, **extra: Any) -> dict[str, Any]:
    response = await client.post(
        "/v1/posts",
        json={"text": text, "neighbourhoods": [ALDERSGATE], **extra},
        headers={**world["headers"]["officer"], "Idempotency-Key": str(uuid.uuid4())},
    )
    assert response.status == 201, await response.text()
    body: dict[str, Any] = await response.json()
    return body


async def new_template(client, world) -> int:
    response = await client.post(
        f"/v1/forces/{DEMO_FORCE}/templates", headers=world["headers"]["admin"],
        json={"title": "Surgery", "body": "Beat surgery at {place}."},
    )  # fmt: skip
    return int((await response.json())["id"])


@dataclass(frozen=True)
class Case:
    """A route and the callers who may use it; `prepare` makes what one attempt needs."""

    name: str
    method: str
    path: str  # may hold {post}, {template}, {officer}
    allowed: frozenset[str]
    body: dict[str, Any] | None = None
    prepare: Callable[[Any, Any], Awaitable[dict[str, Any]]] | None = None
    idempotent_key: bool = False
    anonymous_status: int = 401  # 404 where the route is public and the thing not public yet


async def pending(client, world):
    return {"post": (await new_post(client, world))["id"]}


async def draft(client, world):
    return {"post": (await new_post(client, world, CLEAN, draft=True))["id"]}


async def template(client, world):
    return {"template": await new_template(client, world)}


def staff(force: str = "") -> frozenset[str]:
    if force:
        return frozenset(f"{force}{n}" for n in ("officer", "comms", "admin"))
    return frozenset({"officer", "officer2", "comms", "admin"})


SIGNED_IN = frozenset(CALLERS) - {"anonymous"}
EVERY_STAFF = staff() | staff("kent-")

CASES = [
    Case("me", "GET", "/v1/me", SIGNED_IN),
    Case("my areas", "GET", "/v1/me/areas", EVERY_STAFF),
    Case("my posts", "GET", "/v1/me/posts", SIGNED_IN),
    Case("my notifications", "GET", "/v1/me/notifications", SIGNED_IN),
    Case("list users", "GET", f"/v1/forces/{DEMO_FORCE}/users", frozenset({"admin"})),
    Case("create user", "POST", f"/v1/forces/{DEMO_FORCE}/users", frozenset({"admin"}),
         body={"email": "new.{caller}@city.police.uk", "password": "a long password!", "role": "comms"}),
    Case("read user", "GET", "/v1/users/{officer}", frozenset({"admin"})),
    Case("change user", "PATCH", "/v1/users/{officer}", frozenset({"admin"}), body={"display_name": "PC X"}),
    Case("list teams", "GET", f"/v1/forces/{DEMO_FORCE}/teams", staff()),
    Case("create team", "POST", f"/v1/forces/{DEMO_FORCE}/teams", frozenset({"admin"}),
         body={"id": "north-{caller}", "name": "North"}),
    Case("give a team areas", "POST", f"/v1/forces/{DEMO_FORCE}/teams/{ALDERSGATE}/neighbourhoods",
         frozenset({"admin"}), body={"neighbourhoods": [BISHOPSGATE]}),
    Case("post", "POST", "/v1/posts", frozenset({"officer", "officer2"}),
         body={"text": CLEAN, "neighbourhoods": [ALDERSGATE]}, idempotent_key=True),
    Case("read a post on the desk", "GET", "/v1/posts/{post}", frozenset({"officer", "comms", "admin"}), prepare=pending,
         anonymous_status=404),
    Case("edit", "PATCH", "/v1/posts/{post}", frozenset({"officer"}), body={"version": 1, "text": CLEAN}, prepare=pending),
    Case("submit a draft", "POST", "/v1/posts/{post}/submit", frozenset({"officer"}), prepare=draft),
    Case("withdraw", "POST", "/v1/posts/{post}/withdraw", frozenset({"officer", "comms"}),
         body={"reason": "No longer needed"}, prepare=pending),
    Case("queue", "GET", "/v1/moderation/queue", frozenset({"comms", "kent-comms"})),
    Case("approve", "POST", "/v1/posts/{post}/approve", frozenset({"comms"}), body={}, prepare=pending),
    Case("edit and approve", "POST", "/v1/posts/{post}/edit-approve", frozenset({"comms"}),
         body={"text": CLEAN}, prepare=pending),
    Case("reject", "POST", "/v1/posts/{post}/reject", frozenset({"comms"}),
         body={"reason": "legal-risk", "note": "no"}, prepare=pending),
    Case("escalate", "POST", "/v1/posts/{post}/escalate", frozenset({"comms"}),
         body={"to": "{comms2}"}, prepare=pending),
    Case("read settings", "GET", f"/v1/forces/{DEMO_FORCE}/settings", staff()),
    Case("change settings", "PATCH", f"/v1/forces/{DEMO_FORCE}/settings", frozenset({"admin"}),
         body={"require_welsh": False}),
    Case("hold an area", "PUT", f"/v1/areas/{DEMO_FORCE}/{ALDERSGATE}/hold", frozenset({"comms", "admin"}),
         body={"reason": "Operation Nightjar"}),
    Case("release an area", "DELETE", f"/v1/areas/{DEMO_FORCE}/{ALDERSGATE}/hold", frozenset({"comms", "admin"})),
    Case("list templates", "GET", "/v1/templates", EVERY_STAFF),
    Case("create a template", "POST", f"/v1/forces/{DEMO_FORCE}/templates", frozenset({"admin"}),
         body={"title": "T", "body": "Hello {{name}}."}),
    Case("change a template", "PATCH", "/v1/templates/{template}", frozenset({"admin"}),
         body={"active": False}, prepare=template),
    Case("audit", "GET", "/v1/audit", frozenset({"comms", "admin", "kent-comms", "kent-admin"})),
    Case("audit csv", "GET", "/v1/audit.csv", frozenset({"comms", "admin", "kent-comms", "kent-admin"})),
]  # fmt: skip


def fill(value: Any, names: dict[str, Any]) -> Any:
    if isinstance(value, str):
        filled = value.format(**names)
        return int(filled) if value in ("{comms2}",) else filled
    if isinstance(value, dict):
        return {k: fill(v, names) for k, v in value.items()}
    if isinstance(value, list):
        return [fill(v, names) for v in value]
    return value


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
async def test_route_permissions(client, world, case):
    wrong = []
    for caller in CALLERS:
        names = {
            "caller": caller, "officer": world["users"]["officer"].id,
            "comms2": world["users"]["comms2"].id,
        }  # fmt: skip
        if case.prepare:
            names.update(await case.prepare(client, world))
        headers = dict(world["headers"][caller])
        if case.idempotent_key:
            headers["Idempotency-Key"] = str(uuid.uuid4())
        kwargs: dict[str, Any] = {"headers": headers}
        if case.body is not None:
            kwargs["json"] = fill(case.body, names)
        response = await client.request(case.method, fill(case.path, names), **kwargs)
        if caller in case.allowed:
            ok = 200 <= response.status < 300
        elif caller == "anonymous":
            ok = response.status == case.anonymous_status
        else:
            ok = response.status in (403, 404) or (
                caller.startswith("kent-") and response.status == 422
            )
        if not ok:
            wrong.append(f"{caller}: {response.status} {(await response.text())[:120]}")
    assert not wrong, f"{case.method} {case.path}:\n" + "\n".join(wrong)


async def test_nothing_of_one_force_shows_in_anothers_lists(client, world):
    post = await new_post(client, world)
    kent = world["headers"]
    queue = await (await client.get("/v1/moderation/queue", headers=kent["kent-comms"])).json()
    assert queue["items"] == []
    trail = await (await client.get("/v1/audit", headers=kent["kent-admin"])).json()
    assert all(e["force"] == KENT for e in trail["items"])
    assert (
        post["id"]
        not in await (await client.get("/v1/audit.csv", headers=kent["kent-comms"])).text()
    )
    users = await (await client.get(f"/v1/forces/{KENT}/users", headers=kent["kent-admin"])).json()
    assert {u["email"] for u in users["items"]} == {
        "pc@kent.police.uk",
        "comms@kent.police.uk",
        "admin@kent.police.uk",
    }
    templates = await (await client.get("/v1/templates", headers=kent["kent-officer"])).json()
    await new_template(client, world)
    assert templates["items"] == []
    assert (await (await client.get("/v1/templates", headers=kent["kent-officer"])).json())[
        "items"
    ] == []
