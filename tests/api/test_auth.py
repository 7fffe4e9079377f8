"""Sign-in, refresh rotation, sign-out and hostile tokens, over real HTTP."""

from __future__ import annotations

import base64
import json
from datetime import UTC, datetime, timedelta

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from beat.api.keys import AUTH
from beat.models import Role, Session, User
from tests.helpers import PASSWORD, bearer, create_areas, create_user, login

EMAIL = "pc.jones@example.police.uk"


@pytest.fixture
async def officer(db, demo_areas):
    await create_areas(demo_areas)
    return await create_user(EMAIL)


async def test_login_returns_short_lived_access_and_refresh_tokens(client, officer, clock):
    tokens = await login(client, EMAIL)
    assert tokens["token_type"] == "Bearer"
    assert tokens["expires_in"] == 15 * 60
    assert tokens["refresh_token"].startswith("rt_")
    assert tokens["user"]["role"] == "officer"
    claims = jwt.decode(tokens["access_token"], options={"verify_signature": False})
    assert (
        claims["aud"] == "beat-app" and claims["iss"] == "beat" and claims["sub"] == str(officer.id)
    )


async def test_email_is_matched_without_regard_to_case_or_spaces(client, officer):
    tokens = await login(client, "  PC.Jones@Example.Police.UK ")
    assert tokens["user"]["email"] == EMAIL


@pytest.mark.parametrize(
    ("email", "password"), [(EMAIL, "wrong password!"), ("nobody@example.org", PASSWORD)]
)
async def test_wrong_password_and_unknown_account_look_the_same(client, officer, email, password):
    response = await client.post("/v1/auth/login", json={"email": email, "password": password})
    assert response.status == 401
    assert response.content_type == "application/problem+json"
    body = await response.json()
    assert body["detail"] == "the e-mail address or password is wrong"
    assert "Bearer" in response.headers["WWW-Authenticate"]


async def test_repeated_failures_lock_the_account_until_the_window_passes(client, officer, clock):
    for _ in range(5):
        response = await client.post(
            "/v1/auth/login", json={"email": EMAIL, "password": "nope nope nope"}
        )
        assert response.status == 401
    locked = await client.post("/v1/auth/login", json={"email": EMAIL, "password": PASSWORD})
    assert locked.status == 429
    assert 1 <= int(locked.headers["Retry-After"]) <= 15 * 60
    clock.advance(minutes=16)
    assert (
        await client.post("/v1/auth/login", json={"email": EMAIL, "password": PASSWORD})
    ).status == 200


async def test_failures_across_many_accounts_lock_the_address(client, officer, app):
    limit = app[AUTH].settings.login_failures_per_address
    for i in range(limit):
        response = await client.post(
            "/v1/auth/login", json={"email": f"guess{i}@example.org", "password": "password123456"}
        )
        assert response.status == 401
    blocked = await client.post("/v1/auth/login", json={"email": EMAIL, "password": PASSWORD})
    assert blocked.status == 429


async def test_disabled_account_cannot_sign_in_and_its_tokens_stop_working(client, officer, clock):
    headers = await bearer(client, EMAIL)
    await User.filter(id=officer.id).update(disabled_at=clock())
    assert (await client.get("/v1/me", headers=headers)).status == 401
    response = await client.post("/v1/auth/login", json={"email": EMAIL, "password": PASSWORD})
    assert response.status == 401


async def test_refresh_rotates_the_refresh_token(client, officer):
    first = await login(client, EMAIL)
    response = await client.post("/v1/auth/refresh", json={"refresh_token": first["refresh_token"]})
    assert response.status == 200
    second = await response.json()
    assert second["refresh_token"] != first["refresh_token"]
    me = await client.get("/v1/me", headers={"Authorization": f"Bearer {second['access_token']}"})
    assert me.status == 200


async def test_a_reused_refresh_token_revokes_the_whole_family(client, officer, clock):
    first = await login(client, EMAIL)
    rotated = await (
        await client.post("/v1/auth/refresh", json={"refresh_token": first["refresh_token"]})
    ).json()
    clock.advance(seconds=31)  # past the grace for a phone retrying a lost answer

    replay = await client.post("/v1/auth/refresh", json={"refresh_token": first["refresh_token"]})
    assert replay.status == 401

    # The thief's replay ends the legitimate holder's session too: both must sign in again.
    successor = await client.post(
        "/v1/auth/refresh", json={"refresh_token": rotated["refresh_token"]}
    )
    assert successor.status == 401
    me = await client.get("/v1/me", headers={"Authorization": f"Bearer {rotated['access_token']}"})
    assert me.status == 401
    session = await Session.get(user_id=officer.id)
    assert session.revoked_reason == "refresh-token-reuse"


async def test_a_replay_after_the_chain_moved_on_is_theft_even_within_the_grace(client, officer):
    first = await login(client, EMAIL)
    second = await (
        await client.post("/v1/auth/refresh", json={"refresh_token": first["refresh_token"]})
    ).json()
    third = await client.post("/v1/auth/refresh", json={"refresh_token": second["refresh_token"]})
    assert third.status == 200
    replay = await client.post("/v1/auth/refresh", json={"refresh_token": first["refresh_token"]})
    assert replay.status == 401
    assert (await Session.get(user_id=officer.id)).revoked_reason == "refresh-token-reuse"


async def test_a_phone_that_lost_the_refresh_answer_may_retry_at_once(client, officer, clock):
    first = await login(client, EMAIL)
    lost = await client.post("/v1/auth/refresh", json={"refresh_token": first["refresh_token"]})
    assert lost.status == 200  # the answer never reached the phone
    clock.advance(seconds=5)
    retry = await client.post("/v1/auth/refresh", json={"refresh_token": first["refresh_token"]})
    assert retry.status == 200
    again = await retry.json()
    me = await client.get("/v1/me", headers={"Authorization": f"Bearer {again['access_token']}"})
    assert me.status == 200
    refreshed = await client.post(
        "/v1/auth/refresh", json={"refresh_token": again["refresh_token"]}
    )
    assert refreshed.status == 200


async def test_other_sessions_survive_a_reuse_in_one(client, officer, clock):
    phone = await login(client, EMAIL)
    tablet = await login(client, EMAIL)
    await client.post("/v1/auth/refresh", json={"refresh_token": phone["refresh_token"]})
    clock.advance(minutes=1)
    await client.post("/v1/auth/refresh", json={"refresh_token": phone["refresh_token"]})
    me = await client.get("/v1/me", headers={"Authorization": f"Bearer {tablet['access_token']}"})
    assert me.status == 200


async def test_an_expired_refresh_token_is_refused(client, officer, clock):
    tokens = await login(client, EMAIL)
    clock.advance(days=31)
    response = await client.post(
        "/v1/auth/refresh", json={"refresh_token": tokens["refresh_token"]}
    )
    assert response.status == 401
    assert "expired" in (await response.json())["detail"]


async def test_logout_ends_the_session(client, officer):
    tokens = await login(client, EMAIL)
    headers = {"Authorization": f"Bearer {tokens['access_token']}"}
    assert (await client.post("/v1/auth/logout", headers=headers)).status == 204
    assert (await client.get("/v1/me", headers=headers)).status == 401
    response = await client.post(
        "/v1/auth/refresh", json={"refresh_token": tokens["refresh_token"]}
    )
    assert response.status == 401


def _b64(data: dict) -> str:
    return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()


def _forge(genuine: str, kind: str) -> str:
    header = jwt.get_unverified_header(genuine)
    claims = jwt.decode(genuine, options={"verify_signature": False})
    if kind == "foreign-key":
        return jwt.encode(
            claims, Ed25519PrivateKey.generate(), algorithm="EdDSA", headers={"kid": header["kid"]}
        )
    if kind == "alg-none":
        return f"{_b64({'alg': 'none', 'typ': 'JWT'})}.{_b64(claims)}."
    if kind == "tampered":
        h, _, s = genuine.split(".")
        return f"{h}.{_b64({**claims, 'role': 'force-admin', 'sub': '999'})}.{s}"
    if kind == "truncated":
        return genuine[:-5]
    raise AssertionError(kind)


@pytest.mark.parametrize("kind", ["foreign-key", "alg-none", "tampered", "truncated"])
async def test_forged_tokens_are_refused(client, officer, kind):
    genuine = (await login(client, EMAIL))["access_token"]
    response = await client.get(
        "/v1/me", headers={"Authorization": f"Bearer {_forge(genuine, kind)}"}
    )
    assert response.status == 401
    assert response.content_type == "application/problem+json"


async def _sign(app, claims: dict) -> str:
    key = app[AUTH].issuer.keys.active
    return jwt.encode(claims, key.private_key, algorithm="EdDSA", headers={"kid": key.kid})


@pytest.mark.parametrize(
    "change",
    [
        {"aud": "another-service"},
        {"iss": "someone-else"},
        {"exp": int((datetime.now(UTC) - timedelta(minutes=5)).timestamp())},
        {"nbf": int((datetime.now(UTC) + timedelta(minutes=5)).timestamp())},
    ],
    ids=["wrong-audience", "wrong-issuer", "expired", "not-yet-valid"],
)
async def test_validly_signed_tokens_with_wrong_claims_are_refused(client, officer, app, change):
    genuine = (await login(client, EMAIL))["access_token"]
    claims = {**jwt.decode(genuine, options={"verify_signature": False}), **change}
    response = await client.get(
        "/v1/me", headers={"Authorization": f"Bearer {await _sign(app, claims)}"}
    )
    assert response.status == 401


async def test_a_token_for_one_user_cannot_be_pointed_at_another(client, officer, app):
    other = await create_user("pc.other@example.police.uk")
    genuine = (await login(client, EMAIL))["access_token"]
    claims = {**jwt.decode(genuine, options={"verify_signature": False}), "sub": str(other.id)}
    response = await client.get(
        "/v1/me", headers={"Authorization": f"Bearer {await _sign(app, claims)}"}
    )
    assert response.status == 401


@pytest.mark.parametrize("header", ["", "Bearer", "Bearer ", "Basic dXNlcjpwYXNz", "Token abc"])
async def test_missing_or_malformed_authorization_is_401(client, officer, header):
    response = await client.get("/v1/me", headers={"Authorization": header} if header else {})
    assert response.status == 401


async def test_residents_register_themselves_and_sign_in(client, db):
    response = await client.post(
        "/v1/auth/register",
        json={"email": "resident@example.org", "password": "my own long password"},
    )
    assert response.status == 201
    body = await response.json()
    assert body["role"] == "resident" and body["force"] is None
    tokens = await login(client, "resident@example.org", "my own long password")
    assert tokens["user"]["role"] == Role.RESIDENT.value
    again = await client.post(
        "/v1/auth/register",
        json={"email": "RESIDENT@example.org", "password": "another long password"},
    )
    assert again.status == 409


async def test_one_address_cannot_flood_registrations(client, db):
    statuses = []
    for i in range(12):
        response = await client.post(
            "/v1/auth/register",
            json={"email": f"bot{i}@example.org", "password": "a long password 123"},
        )
        statuses.append(response.status)
    assert statuses[:10] == [201] * 10
    assert statuses[10:] == [429, 429]
