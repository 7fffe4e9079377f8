"""Channel accounts, deliveries on posts, and comms' decisions on deliveries, through the contract.

No delivery worker runs here, so a published post's deliveries stay `pending`; the states that
wait for comms (`failed`, `unknown`, `dead`) are what a worker would leave, set on real rows.
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from beat.models import Delivery
from tests.contract.test_posts_contract import (
    ACCOUNTS,
    CLEAN,
    KEY,
    OTHER_FORCE,
    RISKY,
    new_post,
)
from tests.contract.validating import ContractClient, Reply
from tests.helpers import ALDERSGATE, DEMO_FORCE, PASSWORD, create_areas, create_force, create_user

CHANNELS = f"/v1/forces/{DEMO_FORCE}/channels"
SECRET = "s3cret-token-that-must-never-come-back"
MASTODON = {"base_url": "https://mastodon.example", "access_token": SECRET}
X_CREDENTIALS = {
    "consumer_key": "ck",
    "consumer_secret": SECRET,
    "access_token": "at",
    "access_token_secret": SECRET + "-2",
}
ACCOUNT_FIELDS = {
    "id", "kind", "name", "handle", "force_wide", "neighbourhoods", "healthy",
    "last_checked_at", "last_error",
}  # fmt: skip
DELIVERY_FIELDS = {
    "id", "channel", "account", "action", "status", "remote_id", "url", "attempts",
    "last_error", "due_at", "sent_at",
}  # fmt: skip


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


def account_body(**fields: Any) -> dict[str, Any]:
    body = {
        "kind": "mastodon",
        "name": "City of London Police (Mastodon)",
        "neighbourhoods": [ALDERSGATE],
        "credentials": MASTODON,
    }
    return {**body, **fields}


async def add_account(
    api: ContractClient, token: str, path: str = CHANNELS, **fields: Any
) -> dict[str, Any]:
    reply = await api.post(path, json_body=account_body(**fields), token=token)
    assert reply.status == 201, reply.json
    return dict(reply.json)


def shows_no_secret(reply: Reply) -> bool:
    text = reply.body.decode()
    return SECRET not in text and 'credentials":' not in text.replace(" ", "")


async def published_with_delivery(api: ContractClient, tokens: dict[str, str]) -> dict[str, Any]:
    """A connected account and an officer's clean post, published at once: one delivery."""
    await add_account(api, tokens["admin"])
    post = await new_post(api, tokens["officer"], CLEAN)
    assert post["status"] == "published"
    seen = await api.get(f"/v1/posts/{post['id']}", token=tokens["officer"])
    [delivery] = seen.json["deliveries"]
    return {"post": seen.json, "delivery": delivery}


async def stuck(delivery_id: int, status: str) -> None:
    """What a worker leaves when the platform refused, went silent or kept failing."""
    await Delivery.filter(id=delivery_id).update(
        status=status, attempts=3, last_error="HTTP 503: over capacity"
    )


# ---- channel accounts ------------------------------------------------------------------------


async def test_an_admin_connects_an_account_and_its_credentials_never_come_back(
    contract_client, tokens
):
    reply = await contract_client.post(CHANNELS, json_body=account_body(), token=tokens["admin"])
    assert reply.status == 201
    account = reply.json
    assert set(account) == ACCOUNT_FIELDS
    assert (account["kind"], account["name"], account["force_wide"]) == (
        "mastodon", "City of London Police (Mastodon)", False,
    )  # fmt: skip
    assert [n["id"] for n in account["neighbourhoods"]] == [ALDERSGATE]
    assert (account["healthy"], account["handle"], account["last_checked_at"]) == (
        True, None, None,
    )  # fmt: skip
    assert shows_no_secret(reply)
    for who in ("admin", "comms"):
        listed = await contract_client.get(CHANNELS, token=tokens[who])
        assert listed.status == 200
        assert listed.json["items"] == [account], who
        assert shows_no_secret(listed), who
    trail = await contract_client.get("/v1/audit", token=tokens["admin"])
    assert "channel-added" in [e["action"] for e in trail.json["items"]]
    assert shows_no_secret(trail)
    exported = await contract_client.get("/v1/audit.csv", token=tokens["admin"])
    assert SECRET not in exported.body.decode()


async def test_an_account_may_carry_every_area_of_the_force(contract_client, tokens):
    account = await add_account(
        contract_client,
        tokens["admin"],
        kind="x",
        name="  City   Police  ",
        neighbourhoods=[],
        force_wide=True,
        credentials=X_CREDENTIALS,
    )
    assert (account["kind"], account["name"], account["force_wide"]) == ("x", "City Police", True)
    assert account["neighbourhoods"] == []


@pytest.mark.parametrize("who", ["comms", "officer", "resident", "other_admin", "other_comms"])
async def test_only_the_forces_administrators_connect_accounts(contract_client, tokens, who):
    reply = await contract_client.post(CHANNELS, json_body=account_body(), token=tokens[who])
    assert reply.status == 403
    assert reply.problem_type == "/problems/forbidden"


@pytest.mark.parametrize("who", ["officer", "resident", "other_admin", "other_comms"])
async def test_only_comms_and_administrators_of_the_force_list_its_accounts(
    contract_client, tokens, who
):
    await add_account(contract_client, tokens["admin"])
    reply = await contract_client.get(CHANNELS, token=tokens[who])
    assert reply.status == 403
    assert reply.problem_type == "/problems/forbidden"


async def test_a_name_the_force_uses_is_409_even_after_removal_but_free_elsewhere(
    contract_client, tokens
):
    first = await add_account(contract_client, tokens["admin"])
    again = await contract_client.post(
        CHANNELS, json_body=account_body(kind="x", credentials=X_CREDENTIALS), token=tokens["admin"]
    )
    assert again.status == 409
    assert again.problem_type == "/problems/conflict"
    assert shows_no_secret(again)
    removed = await contract_client.request(
        "DELETE", f"{CHANNELS}/{first['id']}", token=tokens["admin"]
    )
    assert removed.status == 204
    after = await contract_client.post(CHANNELS, json_body=account_body(), token=tokens["admin"])
    assert after.status == 409
    theirs = await contract_client.post(
        f"/v1/forces/{OTHER_FORCE}/channels",
        json_body=account_body(neighbourhoods=[], force_wide=True),
        token=tokens["other_admin"],
    )
    assert theirs.status == 201


@pytest.mark.parametrize(
    ("kind", "credentials", "reason"),
    [
        ("mastodon", {"base_url": "https://mastodon.example"}, "missing access_token"),
        ("mastodon", {**MASTODON, "access_token": "   "}, "missing access_token"),
        ("mastodon", {**MASTODON, "password": SECRET}, "unknown password"),
        ("mastodon", {**MASTODON, "base_url": "mastodon.example"}, "base_url must be"),
        ("x", MASTODON, "missing consumer_key, consumer_secret, access_token_secret"),
        ("bluesky", {}, "missing base_url, handle, app_password"),
    ],
    ids=["missing", "blank", "unknown", "not-a-url", "another-kinds", "empty"],
)
async def test_credentials_without_the_fields_the_kind_needs_are_422(
    contract_client, tokens, kind, credentials, reason
):
    reply = await contract_client.post(
        CHANNELS, json_body=account_body(kind=kind, credentials=credentials), token=tokens["admin"]
    )
    assert reply.status == 422
    [error] = reply.json["errors"]
    assert error["field"] == "credentials"
    assert reason in error["reason"]
    assert SECRET not in reply.body.decode()


async def test_neighbourhoods_the_force_does_not_have_are_422(contract_client, tokens):
    unknown = await contract_client.post(
        CHANNELS,
        json_body=account_body(neighbourhoods=[ALDERSGATE, "E00000000", "T1"]),
        token=tokens["admin"],
    )
    assert unknown.status == 422
    assert unknown.json["errors"] == [
        {"field": "neighbourhoods", "reason": "no area 'E00000000' in the force"},
        {"field": "neighbourhoods", "reason": "no area 'T1' in the force"},
    ]
    nowhere = await contract_client.post(
        CHANNELS, json_body=account_body(neighbourhoods=[]), token=tokens["admin"]
    )
    assert nowhere.status == 422
    assert nowhere.json["errors"][0]["field"] == "neighbourhoods"
    listed = await contract_client.get(CHANNELS, token=tokens["admin"])
    assert listed.json == {"items": []}


@pytest.mark.parametrize(
    ("fields", "field", "off_contract"),
    [
        ({"name": "   "}, "name", False),
        ({"name": "\x00"}, "/name", False),
        ({"name": ""}, "name", True),
        ({"name": "x" * 121}, "/name", True),
        ({"kind": "myspace"}, "/kind", True),
        ({"neighbourhoods": ["E" * 101]}, "/neighbourhoods", True),
        ({"force_wide": "true"}, "/force_wide", True),
        ({"credentials": {"access_token": 1}}, "/credentials/access_token", True),
        ({"credentials": {f"k{i}": "v" for i in range(11)}}, "/credentials", True),
        ({"credentials": None}, "/credentials", True),
    ],
    ids=[
        "blank-name",
        "nul-name",
        "empty-name",
        "long-name",
        "unknown-kind",
        "long-area-id",
        "string-bool",
        "number-secret",
        "too-many-fields",
        "null-credentials",
    ],
)
async def test_unacceptable_accounts_are_422_not_errors(
    contract_client, tokens, fields, field, off_contract
):
    reply = await contract_client.post(
        CHANNELS, json_body=account_body(**fields), token=tokens["admin"], off_contract=off_contract
    )
    assert reply.status == 422, reply.json
    assert field in [e["field"] for e in reply.json["errors"]]


async def test_removing_an_account_cancels_what_it_had_still_to_send(contract_client, tokens):
    made = await published_with_delivery(contract_client, tokens)
    account_id = made["delivery"]["account"]["id"]
    reply = await contract_client.request(
        "DELETE", f"{CHANNELS}/{account_id}", token=tokens["admin"]
    )
    assert reply.status == 204
    assert reply.body == b""
    listed = await contract_client.get(CHANNELS, token=tokens["admin"])
    assert listed.json == {"items": []}
    post = await contract_client.get(f"/v1/posts/{made['post']['id']}", token=tokens["comms"])
    [delivery] = post.json["deliveries"]
    assert (delivery["status"], delivery["last_error"]) == (
        "cancelled", "the account was removed",
    )  # fmt: skip
    again = await contract_client.request(
        "DELETE", f"{CHANNELS}/{account_id}", token=tokens["admin"]
    )
    assert again.status == 404


async def test_another_forces_account_does_not_exist_here(contract_client, tokens):
    theirs = await add_account(
        contract_client,
        tokens["other_admin"],
        f"/v1/forces/{OTHER_FORCE}/channels",
        neighbourhoods=[],
        force_wide=True,
    )
    via_own_force = await contract_client.request(
        "DELETE", f"{CHANNELS}/{theirs['id']}", token=tokens["admin"]
    )
    assert via_own_force.status == 404
    assert via_own_force.problem_type == "/problems/not-found"
    via_theirs = await contract_client.request(
        "DELETE", f"/v1/forces/{OTHER_FORCE}/channels/{theirs['id']}", token=tokens["admin"]
    )
    assert via_theirs.status == 403
    still = await contract_client.get(
        f"/v1/forces/{OTHER_FORCE}/channels", token=tokens["other_admin"]
    )
    assert [a["id"] for a in still.json["items"]] == [theirs["id"]]


@pytest.mark.parametrize("who", ["comms", "officer", "other_admin"])
async def test_only_the_forces_administrators_remove_accounts(contract_client, tokens, who):
    account = await add_account(contract_client, tokens["admin"])
    reply = await contract_client.request(
        "DELETE", f"{CHANNELS}/{account['id']}", token=tokens[who]
    )
    assert reply.status == 403


@pytest.mark.parametrize(
    ("account_id", "off_contract"), [("999999", False), ("0", True), ("x", True)]
)
async def test_an_unknown_account_is_404(contract_client, tokens, account_id, off_contract):
    reply = await contract_client.request(
        "DELETE", f"{CHANNELS}/{account_id}", token=tokens["admin"], off_contract=off_contract
    )
    assert reply.status == 404


# ---- deliveries on posts -----------------------------------------------------------------------


async def test_a_published_post_shows_its_deliveries_to_staff_and_not_to_the_public(
    contract_client, tokens
):
    account = await add_account(contract_client, tokens["admin"])
    created = await new_post(contract_client, tokens["officer"], CLEAN)
    [delivery] = created["deliveries"]
    assert set(delivery) == DELIVERY_FIELDS
    assert delivery["account"] == {"id": account["id"], "name": account["name"], "handle": None}
    assert (delivery["channel"], delivery["action"], delivery["status"]) == (
        "mastodon", "publish", "pending",
    )  # fmt: skip
    assert (delivery["attempts"], delivery["remote_id"], delivery["sent_at"]) == (0, None, None)
    for who in ("officer", "comms", "admin"):
        seen = await contract_client.get(f"/v1/posts/{created['id']}", token=tokens[who])
        assert seen.json["deliveries"] == [delivery], who
        assert shows_no_secret(seen)
    public = await contract_client.get(f"/v1/posts/{created['id']}")
    assert "deliveries" not in public.json


async def test_a_post_waiting_on_the_desk_has_no_deliveries_until_approved(contract_client, tokens):
    await add_account(contract_client, tokens["admin"])
    await add_account(
        contract_client,
        tokens["admin"],
        kind="x",
        name="City Police",
        neighbourhoods=[],
        force_wide=True,
        credentials=X_CREDENTIALS,
    )
    post = await new_post(contract_client, tokens["officer"], RISKY)
    assert (post["status"], post["deliveries"]) == ("pending-review", [])
    approved = await contract_client.post(
        f"/v1/posts/{post['id']}/approve", json_body={"version": 1}, token=tokens["comms"]
    )
    assert approved.json["status"] == "published"
    assert [(d["channel"], d["status"]) for d in approved.json["deliveries"]] == [
        ("mastodon", "pending"), ("x", "pending"),
    ]  # fmt: skip


async def test_a_takedown_cancels_a_delivery_that_has_not_gone(contract_client, tokens):
    made = await published_with_delivery(contract_client, tokens)
    withdrawn = await contract_client.post(
        f"/v1/posts/{made['post']['id']}/withdraw",
        json_body={"reason": "Legal advice"},
        token=tokens["comms"],
    )
    assert withdrawn.json["status"] == "withdrawn"
    [delivery] = withdrawn.json["deliveries"]
    assert (delivery["action"], delivery["status"]) == ("publish", "cancelled")


async def test_a_takedown_of_a_sent_post_shows_its_removal(contract_client, tokens):
    made = await published_with_delivery(contract_client, tokens)
    await Delivery.filter(id=made["delivery"]["id"]).update(status="sent", remote_id="1098")
    withdrawn = await contract_client.post(
        f"/v1/posts/{made['post']['id']}/withdraw",
        json_body={"reason": "Legal advice"},
        token=tokens["comms"],
    )
    assert [(d["action"], d["status"]) for d in withdrawn.json["deliveries"]] == [
        ("publish", "sent"), ("delete", "pending"),
    ]  # fmt: skip


async def test_a_correction_shows_only_the_deliveries_of_the_current_version(
    contract_client, tokens
):
    made = await published_with_delivery(contract_client, tokens)
    path = f"/v1/posts/{made['post']['id']}"
    corrected = await contract_client.patch(
        path, json_body={"version": 1, "text": RISKY}, token=tokens["officer"]
    )
    assert (corrected.json["status"], corrected.json["deliveries"]) == ("pending-review", [])
    approved = await contract_client.post(
        f"{path}/approve", json_body={"version": 2}, token=tokens["comms"]
    )
    [delivery] = approved.json["deliveries"]
    assert delivery["id"] != made["delivery"]["id"]
    assert (delivery["action"], delivery["status"]) == ("publish", "pending")


# ---- deliveries needing a decision -------------------------------------------------------------


async def test_comms_see_the_deliveries_that_wait_for_them(contract_client, tokens):
    made = await published_with_delivery(contract_client, tokens)
    delivery_id = made["delivery"]["id"]
    empty = await contract_client.get("/v1/deliveries", token=tokens["comms"])
    assert empty.json == {"items": []}
    for status in ("failed", "unknown", "dead"):
        await stuck(delivery_id, status)
        reply = await contract_client.get("/v1/deliveries", token=tokens["comms"])
        assert reply.status == 200
        assert reply.headers["Cache-Control"] == "no-store"
        [item] = reply.json["items"]
        assert set(item) == DELIVERY_FIELDS | {"post_id"}
        assert (item["id"], item["post_id"], item["status"]) == (
            delivery_id, made["post"]["id"], status,
        )  # fmt: skip
        assert item["last_error"] == "HTTP 503: over capacity"
        assert shows_no_secret(reply)
    elsewhere = await contract_client.get("/v1/deliveries", token=tokens["other_comms"])
    assert elsewhere.json == {"items": []}


@pytest.mark.parametrize("who", ["admin", "officer", "resident"])
async def test_only_comms_see_deliveries_waiting_for_a_decision(contract_client, tokens, who):
    reply = await contract_client.get("/v1/deliveries", token=tokens[who])
    assert reply.status == 403
    assert reply.problem_type == "/problems/forbidden"


async def test_deliveries_take_no_parameters(contract_client, tokens):
    reply = await contract_client.get(
        "/v1/deliveries", params={"status": "dead"}, token=tokens["comms"]
    )
    assert reply.status == 422
    assert reply.json["errors"] == [
        {"field": "status", "reason": "is not a parameter of this route"}
    ]


@pytest.mark.parametrize(
    ("body", "status", "remote_id", "sent"),
    [
        ({"action": "retry"}, "pending", None, False),
        (
            {"action": "mark-sent", "remote_id": "109876543210987654"},
            "sent",
            "109876543210987654",
            True,
        ),
        ({"action": "cancel"}, "cancelled", None, False),
    ],
    ids=["retry", "mark-sent", "cancel"],
)
async def test_comms_resolve_a_delivery_and_it_leaves_their_list(
    contract_client, tokens, clock, body, status, remote_id, sent
):
    made = await published_with_delivery(contract_client, tokens)
    delivery_id = made["delivery"]["id"]
    await stuck(delivery_id, "unknown")
    reply = await contract_client.post(
        f"/v1/deliveries/{delivery_id}/resolve", json_body=body, token=tokens["comms"]
    )
    assert reply.status == 200, reply.json
    assert reply.headers["Cache-Control"] == "no-store"
    settled = reply.json
    assert (settled["id"], settled["post_id"], settled["status"], settled["remote_id"]) == (
        delivery_id, made["post"]["id"], status, remote_id,
    )  # fmt: skip
    assert (settled["sent_at"] is not None) is sent
    if body["action"] == "retry":
        assert settled["attempts"] == 0
    left = await contract_client.get("/v1/deliveries", token=tokens["comms"])
    assert left.json == {"items": []}
    post = await contract_client.get(f"/v1/posts/{made['post']['id']}", token=tokens["officer"])
    assert post.json["deliveries"][0]["status"] == status
    trail = await contract_client.get(
        "/v1/audit", params={"post": made["post"]["id"]}, token=tokens["comms"]
    )
    assert f"delivery-{body['action']}" in [e["action"] for e in trail.json["items"]]


async def test_a_delivery_that_waits_for_no_decision_cannot_be_resolved(contract_client, tokens):
    made = await published_with_delivery(contract_client, tokens)
    path = f"/v1/deliveries/{made['delivery']['id']}/resolve"
    pending = await contract_client.post(
        path, json_body={"action": "cancel"}, token=tokens["comms"]
    )
    assert pending.status == 422
    await stuck(made["delivery"]["id"], "dead")
    done = await contract_client.post(
        path, json_body={"action": "mark-sent"}, token=tokens["comms"]
    )
    assert done.json["status"] == "sent"
    again = await contract_client.post(path, json_body={"action": "retry"}, token=tokens["comms"])
    assert again.status == 422
    assert again.json["errors"] == [
        {"field": "/action", "reason": "the delivery is sent, not waiting for a decision"}
    ]


@pytest.mark.parametrize("who", ["other_comms", "admin", "officer"])
async def test_a_delivery_is_404_to_all_but_comms_of_its_force(contract_client, tokens, who):
    made = await published_with_delivery(contract_client, tokens)
    await stuck(made["delivery"]["id"], "failed")
    reply = await contract_client.post(
        f"/v1/deliveries/{made['delivery']['id']}/resolve",
        json_body={"action": "cancel"},
        token=tokens[who],
    )
    assert reply.status == 404
    assert reply.problem_type == "/problems/not-found"
    waiting = await contract_client.get("/v1/deliveries", token=tokens["comms"])
    assert [d["status"] for d in waiting.json["items"]] == ["failed"]


@pytest.mark.parametrize(("delivery_id", "off_contract"), [("999999", False), ("x", True)])
async def test_an_unknown_delivery_is_404(contract_client, tokens, delivery_id, off_contract):
    reply = await contract_client.post(
        f"/v1/deliveries/{delivery_id}/resolve",
        json_body={"action": "retry"},
        token=tokens["comms"],
        off_contract=off_contract,
    )
    assert reply.status == 404


@pytest.mark.parametrize(
    "body",
    [{"action": "resend"}, {}, {"action": "mark-sent", "remote_id": "x" * 301}],
    ids=["unknown-action", "no-action", "long-remote-id"],
)
async def test_unacceptable_decisions_are_422(contract_client, tokens, body):
    made = await published_with_delivery(contract_client, tokens)
    await stuck(made["delivery"]["id"], "unknown")
    reply = await contract_client.post(
        f"/v1/deliveries/{made['delivery']['id']}/resolve",
        json_body=body,
        token=tokens["comms"],
        off_contract=True,
    )
    assert reply.status == 422
    waiting = await contract_client.get("/v1/deliveries", token=tokens["comms"])
    assert [d["status"] for d in waiting.json["items"]] == ["unknown"]


# ---- what every new route shares ---------------------------------------------------------------

AUTHENTICATED = [
    ("GET", CHANNELS),
    ("POST", CHANNELS),
    ("DELETE", f"{CHANNELS}/1"),
    ("GET", "/v1/deliveries"),
    ("POST", "/v1/deliveries/1/resolve"),
]


@pytest.mark.parametrize(("method", "path"), AUTHENTICATED)
async def test_no_token_is_401(contract_client, db, method, path):
    reply = await contract_client.request(method, path, off_contract=True)
    assert reply.status == 401
    assert reply.problem_type == "/problems/unauthenticated"
    assert reply.headers["WWW-Authenticate"].startswith("Bearer ")


# Each with a body the contract accepts, so how it is sent is the only thing wrong with it.
BODY_ROUTES = [
    ("POST", CHANNELS, account_body()),
    ("POST", "/v1/deliveries/1/resolve", {"action": "retry"}),
]


@pytest.mark.parametrize(("method", "path", "body"), BODY_ROUTES)
async def test_bad_json_is_400(contract_client, tokens, method, path, body):
    reply = await contract_client.request(
        method,
        path,
        data=json.dumps(body).encode()[:-1],
        headers={"Content-Type": "application/json"},
        token=tokens["admin"],
        off_contract=True,
    )
    assert reply.status == 400
    assert reply.problem_type == "/problems/bad-request"
    assert SECRET not in reply.body.decode()


@pytest.mark.parametrize(("method", "path", "body"), BODY_ROUTES)
async def test_a_body_that_is_not_json_is_415(contract_client, tokens, method, path, body):
    reply = await contract_client.request(
        method,
        path,
        data=b"action=retry",
        headers={"Content-Type": "application/x-www-form-urlencoded"},
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
        headers={"Content-Type": "application/json"},
        token=tokens["admin"],
    )
    assert reply.status == 413
    assert reply.problem_type == "/problems/body-too-large"
