"""Posts, the desk, force settings, holds, templates, audit and notifications, through the contract.

Every call goes through the validating client: each request and response is checked against
mobile_contract/openapi.yaml, so these tests pin both the service's behaviour and the contract.
"""

from __future__ import annotations

import io
import json
import uuid
from datetime import timedelta
from typing import Any

import pytest
from aiohttp import FormData
from aiohttp.test_utils import TestClient
from PIL import Image

from beat import moderation
from beat.models import Role, User
from tests.conftest import FakeClock
from tests.contract.validating import ContractClient, Reply
from tests.helpers import (
    ALDERSGATE,
    BISHOPSGATE,
    DEMO_FORCE,
    PASSWORD,
    create_areas,
    create_force,
    create_user,
)

OFFICER = "pc.khan@city.police.uk"
COMMS = "comms@city.police.uk"
COMMS_2 = "senior.comms@city.police.uk"
ADMIN = "admin@city.police.uk"
RESIDENT = "resident@example.org"
OTHER_FORCE = "elsewhere"
OTHER_COMMS = "comms@elsewhere.police.uk"
OTHER_ADMIN = "admin@elsewhere.police.uk"
ACCOUNTS = {
    "officer": (OFFICER, Role.OFFICER, DEMO_FORCE),
    "comms": (COMMS, Role.COMMS, DEMO_FORCE),
    "comms2": (COMMS_2, Role.COMMS, DEMO_FORCE),
    "admin": (ADMIN, Role.FORCE_ADMIN, DEMO_FORCE),
    "resident": (RESIDENT, Role.RESIDENT, None),
    "other_comms": (OTHER_COMMS, Role.COMMS, OTHER_FORCE),
    "other_admin": (OTHER_ADMIN, Role.FORCE_ADMIN, OTHER_FORCE),
}

CLEAN = "Patrolling Aldersgate Street this evening after reports of bike thefts. Lock it up!"
RISKY = "Call me on 07700 900123 if you saw the van in Aldersgate Street last night."
EDITED = "Did you see the van in Aldersgate Street last night? Call 101 quoting ref 123."
ALDERSGATE_POINT = {"lat": 51.5179, "lng": -0.0971}
PUBLIC_FIELDS = {
    "id", "kind", "text", "text_cy", "location_label", "neighbourhoods", "photos", "published_at",
}  # fmt: skip
NOBODY = "00000000-0000-4000-8000-000000000000"  # a well-formed post id that no post has


@pytest.fixture
async def world(db, demo_areas) -> dict[str, int]:
    """The City's areas, another force, and the accounts of ACCOUNTS; their ids by name."""
    await create_areas(demo_areas)
    await create_force(OTHER_FORCE, teams=("T1",))
    return {
        name: (await create_user(email, role, force=force)).id
        for name, (email, role, force) in ACCOUNTS.items()
    }


@pytest.fixture
async def tokens(contract_client: ContractClient, world: dict[str, int]) -> dict[str, str]:
    """An access token for each account of ACCOUNTS, by name."""
    found = {}
    for name, (email, _role, _force) in ACCOUNTS.items():
        reply = await contract_client.post(
            "/v1/auth/login", json_body={"email": email, "password": PASSWORD}
        )
        assert reply.status == 200, reply.json
        found[name] = str(reply.json["access_token"])
    return found


async def send(
    api: ContractClient,
    token: str,
    body: dict[str, Any],
    key: str | None = None,
    **kwargs: Any,
) -> Reply:
    """POST /v1/posts with an Idempotency-Key (a new one unless given)."""
    headers = {"Idempotency-Key": key or str(uuid.uuid4())}
    return await api.post("/v1/posts", json_body=body, headers=headers, token=token, **kwargs)


async def new_post(api: ContractClient, token: str, text: str = RISKY, **fields: Any) -> Any:
    reply = await send(api, token, {"text": text, "neighbourhoods": [ALDERSGATE], **fields})
    assert reply.status == 201, reply.json
    return reply.json


def zulu(clock: FakeClock, **delta: float) -> str:
    return (clock.now + timedelta(**delta)).isoformat().replace("+00:00", "Z")


# ---- creating, offline-safe --------------------------------------------------------------------


async def test_a_clean_post_goes_out_and_the_public_sees_only_public_fields(
    contract_client, tokens
):
    created = await send(
        contract_client, tokens["officer"], {"text": CLEAN, "neighbourhoods": [ALDERSGATE]}
    )
    assert created.status == 201
    post = created.json
    assert created.headers["Location"] == f"/v1/posts/{post['id']}"
    assert created.headers["Cache-Control"] == "no-store"
    assert (post["status"], post["risks"], post["version"]) == ("published", [], 1)
    assert post["published_at"] is not None
    public = await contract_client.get(f"/v1/posts/{post['id']}")
    assert public.status == 200
    assert set(public.json) == PUBLIC_FIELDS
    assert "Cache-Control" not in public.headers
    seen = await contract_client.get(f"/v1/posts/{post['id']}", token=tokens["resident"])
    assert set(seen.json) == PUBLIC_FIELDS
    staff = await contract_client.get(f"/v1/posts/{post['id']}", token=tokens["comms"])
    assert staff.json["status"] == "published"
    assert staff.headers["Cache-Control"] == "no-store"


async def test_the_same_key_replays_and_a_different_body_with_it_is_422(contract_client, tokens):
    key = str(uuid.uuid4())
    body = {"text": CLEAN, "neighbourhoods": [ALDERSGATE], "kind": "patrol"}
    first = await send(contract_client, tokens["officer"], body, key)
    again = await send(contract_client, tokens["officer"], body, key)
    assert (first.status, again.status) == (201, 200)
    assert again.json["id"] == first.json["id"]
    assert again.headers["Location"] == first.headers["Location"]
    different = await send(contract_client, tokens["officer"], {**body, "text": CLEAN + "!"}, key)
    assert different.status == 422
    assert different.json["errors"][0]["field"] == "Idempotency-Key"
    mine = await contract_client.get("/v1/me/posts", token=tokens["officer"])
    assert [p["id"] for p in mine.json["items"]] == [first.json["id"]]


@pytest.mark.parametrize("key", [None, "", "not-a-uuid"], ids=["missing", "empty", "malformed"])
async def test_a_missing_or_malformed_idempotency_key_is_422(contract_client, tokens, key):
    headers = {} if key is None else {"Idempotency-Key": key}
    reply = await contract_client.post(
        "/v1/posts",
        json_body={"text": CLEAN, "neighbourhoods": [ALDERSGATE]},
        headers=headers,
        token=tokens["officer"],
        off_contract=True,
    )
    assert reply.status == 422
    assert reply.json["errors"][0]["field"] == "Idempotency-Key"


@pytest.mark.parametrize("who", ["comms", "admin", "resident", "other_comms"])
async def test_only_officers_post(contract_client, tokens, who):
    reply = await send(
        contract_client, tokens[who], {"text": CLEAN, "neighbourhoods": [ALDERSGATE]}
    )
    assert reply.status == 403
    assert reply.problem_type == "/problems/forbidden"


async def test_officers_tag_only_their_own_teams_areas_and_forces(contract_client, tokens):
    other_team = await send(
        contract_client, tokens["officer"], {"text": CLEAN, "neighbourhoods": [BISHOPSGATE]}
    )
    assert other_team.status == 403
    other_force = await send(
        contract_client, tokens["officer"], {"text": CLEAN, "neighbourhoods": ["T1"]}
    )
    assert other_force.status == 422
    assert other_force.json["errors"][0]["field"] == "/neighbourhoods"
    untagged = await send(contract_client, tokens["officer"], {"text": CLEAN})
    assert untagged.status == 422


async def test_the_phones_position_finds_the_area_and_is_never_shown(contract_client, tokens):
    reply = await send(
        contract_client, tokens["officer"], {"text": CLEAN, "location": ALDERSGATE_POINT}
    )
    assert reply.status == 201
    assert [n["id"] for n in reply.json["neighbourhoods"]] == [ALDERSGATE]
    assert str(ALDERSGATE_POINT["lat"]) not in reply.body.decode()
    nowhere = await send(
        contract_client, tokens["officer"], {"text": CLEAN, "location": {"lat": 0, "lng": 0}}
    )
    assert nowhere.status == 422
    assert nowhere.json["errors"][0]["field"] == "/location"


@pytest.mark.parametrize(
    ("body", "field", "off_contract"),
    [
        ({"text": "   "}, "/text", False),
        ({"text": ""}, "/text", True),
        ({"text": "x" * 2001}, "/text", True),
        ({"text": CLEAN, "kind": "gossip"}, "/kind", True),
        ({"text": CLEAN, "neighbourhoods": ["E" * 101]}, "/neighbourhoods/0", True),
        ({"text": CLEAN, "photos": ["not-a-photo"]}, "/photos/0", True),
        ({"text": CLEAN, "photos": [NOBODY]}, "/photos", False),
        ({"text": CLEAN, "template_id": 2**40}, "/template_id", True),
        ({"text": CLEAN, "template_id": 1}, "/template_id", False),
        ({"text": CLEAN, "publish_at": "tomorrow"}, "/publish_at", True),
        ({"text": CLEAN, "publish_at": "2026-01-01T18:00:00"}, "/publish_at", True),
        ({"text": CLEAN, "publish_at": "2000-01-01T18:00:00Z"}, "/publish_at", False),
        ({"text": CLEAN, "location": {"lat": 91, "lng": 0}}, "/location/lat", True),
        ({"text": "\x00"}, "/text", False),
    ],
    ids=[
        "blank",
        "empty",
        "too-long",
        "unknown-kind",
        "long-area-id",
        "bad-photo-id",
        "unknown-photo",
        "huge-template-id",
        "unknown-template",
        "not-a-time",
        "no-time-zone",
        "in-the-past",
        "off-the-earth",
        "nul",
    ],
)
async def test_unacceptable_posts_are_422_not_errors(
    contract_client, tokens, body, field, off_contract
):
    body.setdefault("neighbourhoods", [ALDERSGATE])
    reply = await send(contract_client, tokens["officer"], body, off_contract=off_contract)
    assert reply.status == 422, reply.json
    assert field in [e["field"] for e in reply.json["errors"]]


async def test_a_post_carries_its_photos(contract_client, client: TestClient, tokens):
    # Uploaded with the plain client: the upload's own contract is test_photos_contract.py's.
    buffer = io.BytesIO()
    Image.new("RGB", (64, 48), (200, 30, 30)).save(buffer, "JPEG")
    form = FormData()
    form.add_field("file", buffer.getvalue(), filename="x.jpg", content_type="image/jpeg")
    form.add_field("alt_text", "Two PCs outside the station")
    uploaded = await client.post(
        "/v1/photos", data=form, headers={"Authorization": f"Bearer {tokens['officer']}"}
    )
    assert uploaded.status == 201, await uploaded.text()
    photo_id = (await uploaded.json())["id"]
    post = await new_post(contract_client, tokens["officer"], CLEAN, photos=[photo_id])
    assert [p["id"] for p in post["photos"]] == [photo_id]
    public = await contract_client.get(f"/v1/posts/{post['id']}")
    assert public.json["photos"][0]["alt_text"] == "Two PCs outside the station"


# ---- reading ---------------------------------------------------------------------------------


async def test_staff_of_another_force_see_a_published_post_as_the_public_does(
    contract_client, tokens
):
    post = await new_post(contract_client, tokens["officer"], CLEAN)
    for who in ("other_comms", "other_admin"):
        seen = await contract_client.get(f"/v1/posts/{post['id']}", token=tokens[who])
        assert (seen.status, set(seen.json)) == (200, PUBLIC_FIELDS), who


async def test_a_post_not_yet_published_is_404_to_everyone_but_its_author_and_force(
    contract_client, tokens
):
    post = await new_post(contract_client, tokens["officer"])
    assert post["status"] == "pending-review"
    for token in (None, tokens["resident"], tokens["other_comms"], tokens["other_admin"]):
        reply = await contract_client.get(f"/v1/posts/{post['id']}", token=token)
        assert reply.status == 404
        assert reply.problem_type == "/problems/not-found"
    for who in ("officer", "comms", "admin"):
        reply = await contract_client.get(f"/v1/posts/{post['id']}", token=tokens[who])
        assert reply.json["status"] == "pending-review", who


async def test_a_bad_token_on_an_open_route_is_401(contract_client, tokens):
    post = await new_post(contract_client, tokens["officer"], CLEAN)
    reply = await contract_client.get(f"/v1/posts/{post['id']}", token="not.a.jwt")
    assert reply.status == 401


MISSING_POST_CALLS = [
    ("GET", "", None),
    ("PATCH", "", {"version": 1, "text": CLEAN}),
    ("POST", "/submit", None),
    ("POST", "/withdraw", {"reason": "Posted too soon"}),
    ("POST", "/approve", {}),
    ("POST", "/edit-approve", {"text": CLEAN}),
    ("POST", "/reject", {"reason": "other"}),
    ("POST", "/escalate", {"to": 1}),
]


@pytest.mark.parametrize(("method", "suffix", "body"), MISSING_POST_CALLS)
async def test_an_unknown_post_is_404(contract_client, tokens, method, suffix, body):
    for post_id, off_contract in ((NOBODY, False), ("not-a-post", True), ("1", True)):
        reply = await contract_client.request(
            method,
            f"/v1/posts/{post_id}{suffix}",
            json_body=body,
            token=tokens["comms"],
            off_contract=off_contract,
        )
        assert reply.status == 404, (post_id, reply.json)
        assert reply.problem_type == "/problems/not-found"


async def test_my_posts_lists_every_stage_newest_first(contract_client, tokens, clock):
    draft = await new_post(contract_client, tokens["officer"], CLEAN, draft=True)
    clock.advance(seconds=1)
    waiting = await new_post(contract_client, tokens["officer"])
    mine = await contract_client.get("/v1/me/posts", token=tokens["officer"])
    assert mine.headers["Cache-Control"] == "no-store"
    assert [(p["id"], p["status"]) for p in mine.json["items"]] == [
        (waiting["id"], "pending-review"),
        (draft["id"], "draft"),
    ]
    assert mine.json["items"][1]["actions"] == ["submit", "edit", "withdraw"]
    theirs = await contract_client.get("/v1/me/posts", token=tokens["resident"])
    assert theirs.json == {"items": []}
    paged = await contract_client.get("/v1/me/posts", params={"page": "2"}, token=tokens["officer"])
    assert paged.status == 422


# ---- the author's changes ----------------------------------------------------------------------


async def test_a_draft_is_edited_then_submitted_once(contract_client, tokens):
    draft = await new_post(contract_client, tokens["officer"], RISKY, draft=True)
    assert (draft["status"], draft["submitted_at"]) == ("draft", None)
    path = f"/v1/posts/{draft['id']}"
    edited = await contract_client.patch(
        path,
        json_body={"version": 1, "text": CLEAN, "location_label": " Aldersgate   Street "},
        token=tokens["officer"],
    )
    assert edited.status == 200
    assert (edited.json["status"], edited.json["version"]) == ("draft", 2)
    assert edited.json["location_label"] == "Aldersgate Street"
    assert (await contract_client.get("/v1/moderation/queue", token=tokens["comms"])).json == {
        "items": []
    }
    sent = await contract_client.post(f"{path}/submit", token=tokens["officer"])
    assert sent.status == 200
    assert sent.json["status"] == "published"
    again = await contract_client.post(f"{path}/submit", token=tokens["officer"])
    assert again.status == 409
    assert again.problem_type == "/problems/conflict"


async def test_a_correction_leaves_the_public_until_it_passes_the_checks(contract_client, tokens):
    live = await new_post(contract_client, tokens["officer"], CLEAN)
    path = f"/v1/posts/{live['id']}"
    corrected = await contract_client.patch(
        path, json_body={"version": 1, "text": RISKY}, token=tokens["officer"]
    )
    assert corrected.status == 200
    assert (corrected.json["status"], corrected.json["published_at"]) == ("pending-review", None)
    assert (await contract_client.get(path)).status == 404
    approved = await contract_client.post(
        f"{path}/approve", json_body={"version": 2}, token=tokens["comms"]
    )
    assert approved.json["status"] == "published"
    assert (await contract_client.get(path)).json["text"] == RISKY
    await contract_client.post(
        f"{path}/withdraw", json_body={"reason": "Legal advice"}, token=tokens["comms"]
    )
    late = await contract_client.patch(
        path, json_body={"version": 2, "text": CLEAN}, token=tokens["officer"]
    )
    assert late.status == 409


async def test_only_the_author_edits_or_submits(contract_client, tokens):
    draft = await new_post(contract_client, tokens["officer"], draft=True)
    path = f"/v1/posts/{draft['id']}"
    for who in ("comms", "admin", "resident"):
        edit = await contract_client.patch(
            path, json_body={"version": 1, "text": CLEAN}, token=tokens[who]
        )
        assert edit.status == 404, who
        submit = await contract_client.post(f"{path}/submit", token=tokens[who])
        assert submit.status == 404, who


async def test_an_edit_with_a_stale_version_is_409(contract_client, tokens):
    post = await new_post(contract_client, tokens["officer"])
    path = f"/v1/posts/{post['id']}"
    first = await contract_client.patch(
        path, json_body={"version": 1, "text": RISKY + " Thanks."}, token=tokens["officer"]
    )
    assert (first.status, first.json["version"]) == (200, 2)
    stale = await contract_client.patch(
        path, json_body={"version": 1, "text": CLEAN}, token=tokens["officer"]
    )
    assert stale.status == 409
    approve = await contract_client.post(
        f"{path}/approve", json_body={"version": 1}, token=tokens["comms"]
    )
    assert approve.status == 409
    assert approve.problem_type == "/problems/conflict"


async def test_clearing_publish_at_sends_a_scheduled_post_now(contract_client, tokens, clock):
    post = await new_post(
        contract_client, tokens["officer"], CLEAN, publish_at=zulu(clock, hours=2)
    )
    assert post["status"] == "scheduled"
    assert post["not_before"] == zulu(clock, hours=2)
    now = await contract_client.patch(
        f"/v1/posts/{post['id']}",
        json_body={"version": 1, "publish_at": None},
        token=tokens["officer"],
    )
    assert (now.json["status"], now.json["publish_at"]) == ("published", None)


async def test_the_author_withdraws_before_publication_and_comms_take_down_after(
    contract_client, tokens
):
    waiting = await new_post(contract_client, tokens["officer"])
    mine = await contract_client.post(
        f"/v1/posts/{waiting['id']}/withdraw",
        json_body={"reason": "Posted too soon"},
        token=tokens["officer"],
    )
    assert mine.status == 200
    assert (mine.json["status"], mine.json["actions"]) == ("withdrawn", [])
    assert mine.json["withdrawn_at"] is not None
    twice = await contract_client.post(
        f"/v1/posts/{waiting['id']}/withdraw",
        json_body={"reason": "Posted too soon"},
        token=tokens["officer"],
    )
    assert twice.status == 409
    live = await new_post(contract_client, tokens["officer"], CLEAN)
    path = f"/v1/posts/{live['id']}/withdraw"
    author = await contract_client.post(
        path, json_body={"reason": "Wrong street"}, token=tokens["officer"]
    )
    assert author.status == 403
    resident = await contract_client.post(
        path, json_body={"reason": "I do not like it"}, token=tokens["resident"]
    )
    assert resident.status == 403
    # The post is public, so refusing is a 403, not a pretence that it does not exist.
    for who in ("admin", "other_comms"):
        refused = await contract_client.post(
            path, json_body={"reason": "Legal advice"}, token=tokens[who]
        )
        assert refused.status == 403, who
    takedown = await contract_client.post(
        path, json_body={"reason": "Legal advice"}, token=tokens["comms"]
    )
    assert takedown.json["status"] == "withdrawn"
    assert (await contract_client.get(f"/v1/posts/{live['id']}")).status == 404
    told = await contract_client.get("/v1/me/notifications", token=tokens["officer"])
    withdrawn = [n for n in told.json["items"] if n["kind"] == "post-withdrawn"]
    assert withdrawn[0]["details"] == {"reason": "Legal advice"}


@pytest.mark.parametrize(
    ("reason", "off_contract"), [("no", True), ("   ", False), ("x" * 301, True)]
)
async def test_a_withdrawal_needs_a_reason(contract_client, tokens, reason, off_contract):
    post = await new_post(contract_client, tokens["officer"])
    reply = await contract_client.post(
        f"/v1/posts/{post['id']}/withdraw",
        json_body={"reason": reason},
        token=tokens["officer"],
        off_contract=off_contract,
    )
    assert reply.status == 422
    assert reply.json["errors"][0]["field"] == "/reason"


# ---- the desk ----------------------------------------------------------------------------------


async def test_a_risky_post_waits_on_the_desk_with_its_reasons(contract_client, tokens):
    post = await new_post(contract_client, tokens["officer"])
    assert post["status"] == "pending-review"
    assert [(r["code"], r["field"], r["matched"]) for r in post["risks"]] == [
        ("phone-number", "text", "07700 900123")
    ]
    assert post["actions"] == ["edit", "withdraw"]
    queue = await contract_client.get("/v1/moderation/queue", token=tokens["comms"])
    assert queue.headers["Cache-Control"] == "no-store"
    assert [p["id"] for p in queue.json["items"]] == [post["id"]]
    assert queue.json["items"][0]["actions"] == [
        "approve", "edit-approve", "reject", "escalate", "withdraw",
    ]  # fmt: skip
    elsewhere = await contract_client.get("/v1/moderation/queue", token=tokens["other_comms"])
    assert elsewhere.json == {"items": []}


@pytest.mark.parametrize("who", ["officer", "admin", "resident"])
async def test_only_comms_work_the_desk(contract_client, tokens, who):
    post = await new_post(contract_client, tokens["officer"])
    queue = await contract_client.get("/v1/moderation/queue", token=tokens[who])
    assert queue.status == 403
    calls = [
        ("approve", {}),
        ("edit-approve", {"text": EDITED}),
        ("reject", {"reason": "other"}),
        ("escalate", {"to": 1}),
    ]
    for action, body in calls:
        reply = await contract_client.post(
            f"/v1/posts/{post['id']}/{action}", json_body=body, token=tokens[who]
        )
        assert reply.status == 403, action
        assert reply.problem_type == "/problems/forbidden"


async def test_another_forces_comms_may_not_moderate(contract_client, tokens):
    post = await new_post(contract_client, tokens["officer"])
    reply = await contract_client.post(
        f"/v1/posts/{post['id']}/approve", json_body={}, token=tokens["other_comms"]
    )
    assert reply.status == 403


async def test_queue_parameters(contract_client, tokens):
    for mine in ("1", "true", "0", "false"):
        reply = await contract_client.get(
            "/v1/moderation/queue", params={"mine": mine}, token=tokens["comms"]
        )
        assert reply.status == 200
    unknown = await contract_client.get(
        "/v1/moderation/queue", params={"page": "2"}, token=tokens["comms"]
    )
    assert unknown.status == 422
    assert unknown.json["errors"] == [
        {"field": "page", "reason": "is not a parameter of this route"}
    ]


async def test_approve_schedules_for_the_time_chosen_and_tells_the_officer(
    contract_client, tokens, clock
):
    post = await new_post(contract_client, tokens["officer"])
    approved = await contract_client.post(
        f"/v1/posts/{post['id']}/approve",
        json_body={"version": 1, "note": "Fine to go.", "publish_at": zulu(clock, hours=1)},
        token=tokens["comms"],
    )
    assert approved.status == 200
    assert approved.json["status"] == "scheduled"
    assert approved.json["moderation"] == {
        "outcome": "approved", "reason": None, "note": "Fine to go.",
        "decided_at": zulu(clock),
    }  # fmt: skip
    again = await contract_client.post(
        f"/v1/posts/{post['id']}/approve", json_body={}, token=tokens["comms"]
    )
    assert again.status == 409
    told = await contract_client.get("/v1/me/notifications", token=tokens["officer"])
    assert [n["kind"] for n in told.json["items"]] == ["post-approved"]


async def test_edit_and_approve_keeps_the_diff_and_the_officer_reads_the_notice(
    contract_client, tokens
):
    post = await new_post(contract_client, tokens["officer"])
    path = f"/v1/posts/{post['id']}/edit-approve"
    unchanged = await contract_client.post(path, json_body={"text": RISKY}, token=tokens["comms"])
    assert unchanged.status == 422
    edited = await contract_client.post(
        path,
        json_body={"text": EDITED, "note": "Removed a personal number", "version": 1},
        token=tokens["comms"],
    )
    assert edited.status == 200
    assert (edited.json["status"], edited.json["text"], edited.json["version"]) == (
        "published", EDITED, 2,
    )  # fmt: skip
    assert edited.json["moderation"]["outcome"] == "edited-and-approved"
    unread = await contract_client.get(
        "/v1/me/notifications", params={"unread": "1"}, token=tokens["officer"]
    )
    assert unread.headers["Cache-Control"] == "no-store"
    kinds = {n["kind"]: n for n in unread.json["items"]}
    assert set(kinds) == {"post-edited-and-approved", "post-published"}
    notice = kinds["post-edited-and-approved"]
    assert (notice["post_id"], notice["read"]) == (post["id"], False)
    assert "+" + EDITED in notice["details"]["diff"]
    ids = [n["id"] for n in unread.json["items"]]
    marked = await contract_client.post(
        "/v1/me/notifications/read", json_body={"ids": ids}, token=tokens["officer"]
    )
    assert marked.json == {"marked": 2}
    again = await contract_client.post(
        "/v1/me/notifications/read", json_body={"ids": ids}, token=tokens["officer"]
    )
    assert again.json == {"marked": 0}
    left = await contract_client.get(
        "/v1/me/notifications", params={"unread": "true"}, token=tokens["officer"]
    )
    assert left.json == {"items": []}
    every = await contract_client.get("/v1/me/notifications", token=tokens["officer"])
    assert all(n["read"] for n in every.json["items"]) and len(every.json["items"]) == 2


async def test_nobody_marks_anothers_notices(contract_client, tokens):
    post = await new_post(contract_client, tokens["officer"], CLEAN)
    theirs = await contract_client.get("/v1/me/notifications", token=tokens["officer"])
    assert theirs.json["items"][0]["post_id"] == post["id"]
    ids = [n["id"] for n in theirs.json["items"]]
    marked = await contract_client.post(
        "/v1/me/notifications/read", json_body={"ids": ids}, token=tokens["comms"]
    )
    assert marked.json == {"marked": 0}


@pytest.mark.parametrize(
    ("body", "off_contract"),
    [
        ({"ids": []}, True),
        ({"ids": [0]}, True),
        ({"ids": [2**40]}, True),
        ({"ids": ["1"]}, True),
        ({"ids": list(range(1, 202))}, True),
        ({}, True),
    ],
    ids=["empty", "zero", "huge", "string", "too-many", "missing"],
)
async def test_marking_read_needs_one_to_200_ids(contract_client, tokens, body, off_contract):
    reply = await contract_client.post(
        "/v1/me/notifications/read",
        json_body=body,
        token=tokens["officer"],
        off_contract=off_contract,
    )
    assert reply.status == 422


async def test_notifications_take_only_unread(contract_client, tokens):
    reply = await contract_client.get(
        "/v1/me/notifications", params={"page": "2"}, token=tokens["officer"]
    )
    assert reply.status == 422
    assert reply.json["errors"][0]["field"] == "page"


async def test_reject_needs_one_of_the_forces_reasons_and_the_officer_tries_again(
    contract_client, tokens
):
    post = await new_post(contract_client, tokens["officer"])
    path = f"/v1/posts/{post['id']}"
    bad = await contract_client.post(
        f"{path}/reject", json_body={"reason": "meh"}, token=tokens["comms"]
    )
    assert bad.status == 422
    assert bad.json["errors"][0]["field"] == "/reason"
    rejected = await contract_client.post(
        f"{path}/reject",
        json_body={"reason": "identifies-a-person", "note": "No personal numbers.", "version": 1},
        token=tokens["comms"],
    )
    assert rejected.status == 200
    assert rejected.json["status"] == "rejected"
    mine = await contract_client.get("/v1/me/posts", token=tokens["officer"])
    outcome = mine.json["items"][0]["moderation"]
    assert (outcome["outcome"], outcome["reason"], outcome["note"]) == (
        "rejected", "identifies-a-person", "No personal numbers.",
    )  # fmt: skip
    assert mine.json["items"][0]["actions"] == ["edit"]
    again = await contract_client.post(
        f"{path}/reject", json_body={"reason": "other"}, token=tokens["comms"]
    )
    assert again.status == 409
    fixed = await contract_client.patch(
        path, json_body={"version": 1, "text": CLEAN}, token=tokens["officer"]
    )
    assert fixed.json["status"] == "published"


async def test_escalation_goes_to_another_comms_officer_of_the_force(
    contract_client, tokens, world
):
    post = await new_post(contract_client, tokens["officer"])
    path = f"/v1/posts/{post['id']}/escalate"
    for to in (world["officer"], world["comms"], world["other_comms"], 999_999):
        wrong = await contract_client.post(path, json_body={"to": to}, token=tokens["comms"])
        assert wrong.status == 422, to
        assert wrong.json["errors"][0]["field"] == "/to"
    huge = await contract_client.post(
        path, json_body={"to": 2**40}, token=tokens["comms"], off_contract=True
    )
    assert huge.status == 422
    escalated = await contract_client.post(
        path, json_body={"to": world["comms2"], "note": "Your call"}, token=tokens["comms"]
    )
    assert escalated.status == 200
    assert (escalated.json["status"], escalated.json["assigned_to"]) == (
        "pending-review", world["comms2"],
    )  # fmt: skip
    theirs = await contract_client.get(
        "/v1/moderation/queue", params={"mine": "1"}, token=tokens["comms2"]
    )
    assert [p["id"] for p in theirs.json["items"]] == [post["id"]]
    not_mine = await contract_client.get(
        "/v1/moderation/queue", params={"mine": "1"}, token=tokens["comms"]
    )
    assert not_mine.json == {"items": []}
    told = await contract_client.get("/v1/me/notifications", token=tokens["comms2"])
    assert [n["kind"] for n in told.json["items"]] == ["post-escalated"]
    approved = await contract_client.post(
        f"/v1/posts/{post['id']}/approve", json_body={}, token=tokens["comms2"]
    )
    assert approved.json["assigned_to"] is None
    late = await contract_client.post(
        path, json_body={"to": world["comms"]}, token=tokens["comms2"]
    )
    assert late.status == 409


async def test_no_one_moderates_their_own_post(contract_client, tokens, world):
    post = await new_post(contract_client, tokens["officer"])
    # The officer moves to the comms team; their own post is still not theirs to decide.
    await User.filter(id=world["officer"]).update(role=Role.COMMS, team_id=None)
    for action, body in (("approve", {}), ("reject", {"reason": "other"})):
        reply = await contract_client.post(
            f"/v1/posts/{post['id']}/{action}", json_body=body, token=tokens["officer"]
        )
        assert reply.status == 403, action


async def test_an_approval_that_missed_its_time_expires_back_to_the_desk(
    contract_client, tokens, clock
):
    post = await new_post(
        contract_client, tokens["officer"], CLEAN, publish_at=zulu(clock, hours=2)
    )
    assert post["status"] == "scheduled"
    clock.advance(hours=3)  # the publisher never ran (an outage)
    assert await moderation.expire_stale(clock()) == 1
    queue = await contract_client.get("/v1/moderation/queue", token=tokens["comms"])
    expired = queue.json["items"][0]
    assert (expired["id"], expired["status"]) == (post["id"], "expired")
    assert expired["moderation"] == {
        "outcome": "expired", "reason": None, "note": None, "decided_at": None,
    }  # fmt: skip
    again = await contract_client.post(
        f"/v1/posts/{post['id']}/approve", json_body={}, token=tokens["comms"]
    )
    assert again.json["status"] == "published"


# ---- force settings ----------------------------------------------------------------------------


async def test_staff_read_the_settings_and_only_the_admin_changes_them(contract_client, tokens):
    path = f"/v1/forces/{DEMO_FORCE}/settings"
    for who in ("officer", "comms", "admin"):
        current = await contract_client.get(path, token=tokens[who])
        assert current.status == 200, who
    assert current.json == {
        "force": DEMO_FORCE,
        "moderation_policy": "risky-only",
        "require_welsh": False,
        "officers_post_force_wide": False,
        "publication_delays": {},
        "reject_reasons": [
            "inaccurate", "identifies-a-person", "legal-risk", "tone", "duplicate",
            "not-for-social-media", "other",
        ],
        "approval_grace_minutes": 15,
        "retention_days": None,
    }  # fmt: skip
    change = {
        "moderation_policy": "pre-moderate-all",
        "publication_delays": {"patrol": 60},
        "reject_reasons": ["tone", "other", "tone"],
        "approval_grace_minutes": 30,
        "retention_days": 90,
    }
    for who in ("comms", "officer", "other_admin"):
        refused = await contract_client.patch(path, json_body=change, token=tokens[who])
        assert refused.status == 403, who
    changed = await contract_client.patch(path, json_body=change, token=tokens["admin"])
    assert changed.status == 200
    assert changed.json["reject_reasons"] == ["tone", "other"]
    assert changed.json["publication_delays"] == {"patrol": 60}
    assert changed.json["retention_days"] == 90
    kept = await contract_client.patch(
        path, json_body={"require_welsh": None, "retention_days": None}, token=tokens["admin"]
    )
    assert (kept.json["moderation_policy"], kept.json["retention_days"]) == (
        "pre-moderate-all", None,
    )  # fmt: skip
    waiting = await new_post(contract_client, tokens["officer"], CLEAN)
    assert waiting["status"] == "pending-review"


@pytest.mark.parametrize("who", ["resident", "other_comms", "other_admin"])
async def test_outsiders_may_not_read_a_forces_settings(contract_client, tokens, who):
    reply = await contract_client.get(f"/v1/forces/{DEMO_FORCE}/settings", token=tokens[who])
    assert reply.status == 403


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"publication_delays": {"gossip": 5}}, "/publication_delays/gossip"),
        ({"publication_delays": {"patrol": -1}}, "/publication_delays/patrol"),
        ({"publication_delays": {"patrol": 10081}}, "/publication_delays/patrol"),
        ({"reject_reasons": []}, "/reject_reasons"),
        ({"reject_reasons": ["Not A Slug"]}, "/reject_reasons"),
        ({"approval_grace_minutes": 0}, "/approval_grace_minutes"),
        ({"retention_days": 7}, "/retention_days"),
        ({"moderation_policy": "anything-goes"}, "/moderation_policy"),
        ({"require_welsh": "yes"}, "/require_welsh"),
    ],
)
async def test_settings_out_of_range_are_422(contract_client, tokens, body, field):
    reply = await contract_client.patch(
        f"/v1/forces/{DEMO_FORCE}/settings",
        json_body=body,
        token=tokens["admin"],
        off_contract=True,
    )
    assert reply.status == 422
    assert reply.json["errors"][0]["field"].startswith(field)


async def test_an_over_long_force_id_is_404(contract_client, tokens):
    reply = await contract_client.get(
        f"/v1/forces/{'f' * 65}/settings", token=tokens["admin"], off_contract=True
    )
    assert reply.status == 404


# ---- area holds --------------------------------------------------------------------------------


async def test_a_hold_holds_even_clean_posts_until_released(contract_client, tokens):
    path = f"/v1/areas/{DEMO_FORCE}/{ALDERSGATE}/hold"
    held = await contract_client.request(
        "PUT", path, json_body={"reason": " Operation   in progress "}, token=tokens["comms"]
    )
    assert held.status == 200
    assert (held.json["id"], held.json["held"], held.json["hold_reason"]) == (
        ALDERSGATE, True, "Operation in progress",
    )  # fmt: skip
    assert held.json["hold_since"] is not None
    waiting = await new_post(contract_client, tokens["officer"], CLEAN)
    assert (waiting["status"], waiting["risks"]) == ("pending-review", [])
    released = await contract_client.request("DELETE", path, token=tokens["admin"])
    assert released.status == 200
    assert (released.json["held"], released.json["hold_since"], released.json["hold_reason"]) == (
        False, None, None,
    )  # fmt: skip
    assert (await new_post(contract_client, tokens["officer"], CLEAN))["status"] == "published"


@pytest.mark.parametrize("who", ["officer", "resident", "other_comms", "other_admin"])
async def test_only_the_forces_comms_and_admins_hold_its_areas(contract_client, tokens, who):
    path = f"/v1/areas/{DEMO_FORCE}/{ALDERSGATE}/hold"
    put = await contract_client.request(
        "PUT", path, json_body={"reason": "Operation"}, token=tokens[who]
    )
    assert put.status == 403
    delete = await contract_client.request("DELETE", path, token=tokens[who])
    assert delete.status == 403


async def test_holding_an_unknown_area_is_404_and_a_hold_needs_a_reason(contract_client, tokens):
    unknown = await contract_client.request(
        "PUT",
        f"/v1/areas/{DEMO_FORCE}/E00000000/hold",
        json_body={"reason": "Operation"},
        token=tokens["comms"],
    )
    assert unknown.status == 404
    released = await contract_client.request(
        "DELETE", f"/v1/areas/{DEMO_FORCE}/E00000000/hold", token=tokens["comms"]
    )
    assert released.status == 404
    short = await contract_client.request(
        "PUT",
        f"/v1/areas/{DEMO_FORCE}/{ALDERSGATE}/hold",
        json_body={"reason": "op"},
        token=tokens["comms"],
        off_contract=True,
    )
    assert short.status == 422


# ---- templates ---------------------------------------------------------------------------------


async def test_an_admin_makes_a_template_officers_post_from_it_and_it_is_retired(
    contract_client, tokens
):
    made = await contract_client.post(
        f"/v1/forces/{DEMO_FORCE}/templates",
        json_body={
            "title": "Patrol after reports",
            "body": "Patrolling {street} tonight after reports of {issue}. {{Thanks}}",
            "kind": "patrol",
        },
        token=tokens["admin"],
    )
    assert made.status == 201
    template = made.json
    assert (template["placeholders"], template["active"]) == (["street", "issue"], True)
    listed = await contract_client.get("/v1/templates", token=tokens["officer"])
    assert [t["id"] for t in listed.json["items"]] == [template["id"]]
    post = await new_post(
        contract_client, tokens["officer"], CLEAN, template_id=template["id"], kind="patrol"
    )
    assert (post["template_id"], post["kind"]) == (template["id"], "patrol")
    path = f"/v1/templates/{template['id']}"
    retired = await contract_client.patch(
        path, json_body={"active": False, "title": "Old patrol"}, token=tokens["admin"]
    )
    assert retired.status == 200
    assert (retired.json["active"], retired.json["title"]) == (False, "Old patrol")
    assert (await contract_client.get("/v1/templates", token=tokens["comms"])).json == {"items": []}
    admins = await contract_client.get("/v1/templates", token=tokens["admin"])
    assert [t["active"] for t in admins.json["items"]] == [False]
    unusable = await send(
        contract_client,
        tokens["officer"],
        {"text": CLEAN, "neighbourhoods": [ALDERSGATE], "template_id": template["id"]},
    )
    assert unusable.status == 422


async def test_only_a_forces_admin_manages_its_templates(contract_client, tokens):
    body = {"title": "Patrol", "body": "Patrolling {street}."}
    for who in ("officer", "comms", "other_admin"):
        refused = await contract_client.post(
            f"/v1/forces/{DEMO_FORCE}/templates", json_body=body, token=tokens[who]
        )
        assert refused.status == 403, who
    made = await contract_client.post(
        f"/v1/forces/{DEMO_FORCE}/templates", json_body=body, token=tokens["admin"]
    )
    path = f"/v1/templates/{made.json['id']}"
    assert (await contract_client.patch(path, json_body={}, token=tokens["comms"])).status == 403
    elsewhere = await contract_client.patch(path, json_body={}, token=tokens["other_admin"])
    assert elsewhere.status == 404
    missing = await contract_client.patch(
        "/v1/templates/999999", json_body={"active": False}, token=tokens["admin"]
    )
    assert missing.status == 404
    for template_id in ("0", "abc", "2147483648"):
        reply = await contract_client.patch(
            f"/v1/templates/{template_id}", json_body={}, token=tokens["admin"], off_contract=True
        )
        assert reply.status == 404, template_id
    resident = await contract_client.get("/v1/templates", token=tokens["resident"])
    assert resident.status == 403


@pytest.mark.parametrize(
    ("body", "off_contract"),
    [
        ({"title": "T", "body": "Patrolling {Street}."}, False),
        ({"title": "T", "body": "Patrolling {street."}, False),
        ({"title": "T", "body": "Patrolling {0}."}, False),
        ({"title": "   ", "body": "Patrolling."}, False),
        ({"title": "T", "body": "Patrolling.", "kind": "gossip"}, True),
        ({"title": "T"}, True),
    ],
    ids=["capitals", "unclosed", "positional", "blank-title", "unknown-kind", "no-body"],
)
async def test_malformed_templates_are_422(contract_client, tokens, body, off_contract):
    reply = await contract_client.post(
        f"/v1/forces/{DEMO_FORCE}/templates",
        json_body=body,
        token=tokens["admin"],
        off_contract=off_contract,
    )
    assert reply.status == 422


# ---- audit -------------------------------------------------------------------------------------


async def test_the_audit_trail_as_json_and_csv(contract_client, tokens, clock):
    post = await send(
        contract_client,
        tokens["officer"],
        {"text": RISKY, "neighbourhoods": [ALDERSGATE], "location": ALDERSGATE_POINT},
    )
    post_id = post.json["id"]
    await contract_client.post(
        f"/v1/posts/{post_id}/approve", json_body={"note": "fine"}, token=tokens["comms"]
    )
    window = {"from": zulu(clock, hours=-1), "to": zulu(clock, hours=1), "post": post_id}
    trail = await contract_client.get("/v1/audit", params=window, token=tokens["comms"])
    assert trail.headers["Cache-Control"] == "no-store"
    assert [e["action"] for e in trail.json["items"]] == [
        "created", "submit", "hold", "approve", "schedule", "publish",
    ]  # fmt: skip
    created = trail.json["items"][0]
    assert (created["actor_role"], created["to_status"]) == ("officer", "draft")
    assert "gps" not in created["details"]
    assert str(ALDERSGATE_POINT["lat"]) not in trail.body.decode()
    exported = await contract_client.get("/v1/audit.csv", params=window, token=tokens["admin"])
    assert exported.status == 200
    assert exported.content_type == "text/csv"
    assert exported.headers["Content-Disposition"] == 'attachment; filename="beat-audit.csv"'
    lines = exported.body.decode().strip().split("\r\n")
    assert lines[0] == (
        "id,at,force,actor_id,actor_role,post_id,action,from_status,to_status,reason,details"
    )
    assert len(lines) == 7
    assert str(ALDERSGATE_POINT["lat"]) not in exported.body.decode()
    later = await contract_client.get(
        "/v1/audit", params={"from": zulu(clock, hours=1)}, token=tokens["comms"]
    )
    assert later.json == {"items": []}


async def test_blank_audit_cells_stay_blank_in_the_csv(contract_client, tokens):
    await new_post(contract_client, tokens["officer"], CLEAN)
    exported = await contract_client.get("/v1/audit.csv", token=tokens["comms"])
    created = exported.body.decode().split("\r\n")[1].split(",")
    assert created[6:10] == ["created", "", "draft", ""]


@pytest.mark.parametrize("path", ["/v1/audit", "/v1/audit.csv"])
@pytest.mark.parametrize("who", ["officer", "resident"])
async def test_only_comms_and_admins_read_the_audit_trail(contract_client, tokens, path, who):
    reply = await contract_client.get(path, token=tokens[who])
    assert reply.status == 403


async def test_another_forces_comms_see_only_their_own_trail(contract_client, tokens):
    await new_post(contract_client, tokens["officer"])
    theirs = await contract_client.get("/v1/audit", token=tokens["other_comms"])
    assert theirs.json == {"items": []}


@pytest.mark.parametrize("path", ["/v1/audit", "/v1/audit.csv"])
@pytest.mark.parametrize(
    ("params", "field", "off_contract"),
    [
        ({"from": "2026-11-02T00:00:00Z", "to": "2026-11-01T00:00:00Z"}, "to", False),
        ({"from": "2024-01-01T00:00:00Z", "to": "2026-01-01T00:00:00Z"}, "to", False),
        ({"from": "yesterday"}, "from", True),
        ({"to": "2026-11-01T00:00:00"}, "to", True),
        ({"post": "not-a-post"}, "post", True),
        ([("post", NOBODY), ("post", NOBODY)], "post", False),
        ({"page": "2"}, "page", False),
    ],
    ids=["backwards", "over-a-year", "not-a-time", "no-time-zone", "bad-post", "twice", "unknown"],
)
async def test_audit_parameters_are_checked(
    contract_client, tokens, path, params, field, off_contract
):
    reply = await contract_client.get(
        path, params=params, token=tokens["comms"], off_contract=off_contract
    )
    assert reply.status == 422
    assert reply.json["errors"][0]["field"] == field


# ---- what every new route shares ---------------------------------------------------------------

AUTHENTICATED = [
    ("POST", "/v1/posts"),
    ("PATCH", f"/v1/posts/{NOBODY}"),
    ("POST", f"/v1/posts/{NOBODY}/submit"),
    ("POST", f"/v1/posts/{NOBODY}/withdraw"),
    ("POST", f"/v1/posts/{NOBODY}/approve"),
    ("POST", f"/v1/posts/{NOBODY}/edit-approve"),
    ("POST", f"/v1/posts/{NOBODY}/reject"),
    ("POST", f"/v1/posts/{NOBODY}/escalate"),
    ("GET", "/v1/me/posts"),
    ("GET", "/v1/me/notifications"),
    ("POST", "/v1/me/notifications/read"),
    ("GET", "/v1/moderation/queue"),
    ("GET", f"/v1/forces/{DEMO_FORCE}/settings"),
    ("PATCH", f"/v1/forces/{DEMO_FORCE}/settings"),
    ("PUT", f"/v1/areas/{DEMO_FORCE}/{ALDERSGATE}/hold"),
    ("DELETE", f"/v1/areas/{DEMO_FORCE}/{ALDERSGATE}/hold"),
    ("GET", "/v1/templates"),
    ("POST", f"/v1/forces/{DEMO_FORCE}/templates"),
    ("PATCH", "/v1/templates/1"),
    ("GET", "/v1/audit"),
    ("GET", "/v1/audit.csv"),
]


@pytest.mark.parametrize(("method", "path"), AUTHENTICATED)
async def test_no_token_is_401(contract_client, db, method, path):
    reply = await contract_client.request(method, path, off_contract=True)
    assert reply.status == 401
    assert reply.problem_type == "/problems/unauthenticated"
    assert reply.headers["WWW-Authenticate"].startswith("Bearer ")


# Each with a body the contract accepts, so padding it is the only thing wrong with it.
BODY_ROUTES = [
    ("POST", "/v1/posts", {"text": CLEAN, "neighbourhoods": [ALDERSGATE]}),
    ("PATCH", f"/v1/posts/{NOBODY}", {"version": 1}),
    ("POST", f"/v1/posts/{NOBODY}/withdraw", {"reason": "Posted too soon"}),
    ("POST", f"/v1/posts/{NOBODY}/approve", {"note": "fine"}),
    ("POST", f"/v1/posts/{NOBODY}/edit-approve", {"text": CLEAN}),
    ("POST", f"/v1/posts/{NOBODY}/reject", {"reason": "other"}),
    ("POST", f"/v1/posts/{NOBODY}/escalate", {"to": 1}),
    ("POST", "/v1/me/notifications/read", {"ids": [1]}),
    ("PATCH", f"/v1/forces/{DEMO_FORCE}/settings", {"require_welsh": True}),
    ("PUT", f"/v1/areas/{DEMO_FORCE}/{ALDERSGATE}/hold", {"reason": "Operation"}),
    ("POST", f"/v1/forces/{DEMO_FORCE}/templates", {"title": "T", "body": "B"}),
    ("PATCH", "/v1/templates/1", {"active": False}),
]
KEY = {"Idempotency-Key": "9b2f4c1e-8a47-4d0e-b1f3-5c2a7d9e6f10"}


@pytest.mark.parametrize(("method", "path", "body"), BODY_ROUTES)
async def test_bad_json_is_400(contract_client, tokens, method, path, body):
    reply = await contract_client.request(
        method,
        path,
        data=json.dumps(body).encode()[:-1],
        headers={**KEY, "Content-Type": "application/json"},
        token=tokens["admin"],
        off_contract=True,
    )
    assert reply.status == 400
    assert reply.problem_type == "/problems/bad-request"


@pytest.mark.parametrize(("method", "path", "body"), BODY_ROUTES)
async def test_a_body_that_is_not_json_is_415(contract_client, tokens, method, path, body):
    reply = await contract_client.request(
        method,
        path,
        data=b"reason=x",
        headers={**KEY, "Content-Type": "application/x-www-form-urlencoded"},
        token=tokens["admin"],
        off_contract=True,
    )
    assert reply.status == 415
    assert reply.problem_type == "/problems/unsupported-media-type"


@pytest.mark.parametrize(("method", "path", "body"), BODY_ROUTES)
async def test_unknown_fields_are_422(contract_client, tokens, method, path, body):
    reply = await contract_client.request(
        method,
        path,
        json_body={**body, "gps": [51.5, -0.1]},
        headers=KEY,
        token=tokens["admin"],
        off_contract=True,
    )
    assert reply.status == 422
    assert {"field": "/gps", "reason": "Extra inputs are not permitted"} in reply.json["errors"]


@pytest.mark.parametrize(("method", "path", "body"), BODY_ROUTES)
async def test_a_body_over_the_limit_is_413(contract_client, tokens, method, path, body):
    # Valid by the contract: JSON may carry any amount of whitespace.
    padded = json.dumps(body).encode()[:-1] + b" " * (70 * 1024) + b"}"
    reply = await contract_client.request(
        method,
        path,
        data=padded,
        headers={**KEY, "Content-Type": "application/json"},
        token=tokens["admin"],
    )
    assert reply.status == 413
    assert reply.problem_type == "/problems/body-too-large"
