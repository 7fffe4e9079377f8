"""Access tokens: only our keys, our algorithm, our audience and issuer, and every claim."""

from __future__ import annotations

import base64
import json
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from beat.errors import NotAuthenticated
from beat.tokens import KeyRing, TokenIssuer, generate_key

SESSION = uuid.uuid4()


def issuer_for(path: Path, **kw) -> TokenIssuer:
    return TokenIssuer(
        KeyRing.load(path), issuer=kw.get("iss", "beat"), audience=kw.get("aud", "beat-app"),
        ttl=timedelta(minutes=15),
    )  # fmt: skip


def issue(issuer: TokenIssuer, now: datetime | None = None) -> str:
    token, _ = issuer.issue(
        user_id=7, session_id=SESSION, role="officer", force="city-of-london",
        now=now or datetime.now(UTC),
    )  # fmt: skip
    return token


def b64(data: dict) -> str:
    return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()


def test_a_fresh_token_verifies_with_its_claims(tmp_path):
    issuer = issuer_for(tmp_path)
    claims = issuer.verify(issue(issuer))
    assert (claims.subject, claims.session_id, claims.role, claims.force) == (
        7, SESSION, "officer", "city-of-london",
    )  # fmt: skip
    header = jwt.get_unverified_header(issue(issuer))
    assert header["alg"] == "EdDSA" and header["kid"] == issuer.keys.active.kid


def test_the_first_run_generates_a_private_key_only_the_owner_can_read(tmp_path):
    KeyRing.load(tmp_path / "keys")
    files = list((tmp_path / "keys").glob("*.pem"))
    assert len(files) == 1
    assert files[0].stat().st_mode & 0o077 == 0


def test_expired_token_is_rejected(tmp_path):
    issuer = issuer_for(tmp_path)
    old = issue(issuer, datetime.now(UTC) - timedelta(hours=2))
    with pytest.raises(NotAuthenticated, match="expired"):
        issuer.verify(old)


def test_token_not_yet_valid_is_rejected(tmp_path):
    issuer = issuer_for(tmp_path)
    future = issue(issuer, datetime.now(UTC) + timedelta(hours=1))
    with pytest.raises(NotAuthenticated):
        issuer.verify(future)


def test_wrong_audience_and_wrong_issuer_are_rejected(tmp_path):
    ours = issuer_for(tmp_path)
    other_audience = issuer_for(tmp_path, aud="someone-else")
    other_issuer = issuer_for(tmp_path, iss="evil")
    with pytest.raises(NotAuthenticated):
        ours.verify(issue(other_audience))
    with pytest.raises(NotAuthenticated):
        ours.verify(issue(other_issuer))


def test_token_signed_by_a_foreign_key_claiming_our_kid_is_rejected(tmp_path):
    issuer = issuer_for(tmp_path)
    genuine = jwt.decode(issue(issuer), options={"verify_signature": False})
    forged = jwt.encode(
        genuine, Ed25519PrivateKey.generate(), algorithm="EdDSA",
        headers={"kid": issuer.keys.active.kid},
    )  # fmt: skip
    with pytest.raises(NotAuthenticated):
        issuer.verify(forged)


def test_alg_none_is_rejected(tmp_path):
    issuer = issuer_for(tmp_path)
    claims = jwt.decode(issue(issuer), options={"verify_signature": False})
    unsigned = f"{b64({'alg': 'none', 'typ': 'JWT', 'kid': issuer.keys.active.kid})}.{b64(claims)}."
    with pytest.raises(NotAuthenticated, match="algorithm"):
        issuer.verify(unsigned)


def test_hmac_with_the_public_key_as_secret_is_rejected(tmp_path):
    issuer = issuer_for(tmp_path)
    claims = jwt.decode(issue(issuer), options={"verify_signature": False})
    header = {"alg": "HS256", "typ": "JWT", "kid": issuer.keys.active.kid}
    import hashlib
    import hmac

    signing_input = f"{b64(header)}.{b64(claims)}"
    secret = issuer.keys.active.kid.encode()
    sig = base64.urlsafe_b64encode(
        hmac.new(secret, signing_input.encode(), hashlib.sha256).digest()
    ).rstrip(b"=")
    with pytest.raises(NotAuthenticated):
        issuer.verify(f"{signing_input}.{sig.decode()}")


def test_tampered_payload_is_rejected(tmp_path):
    issuer = issuer_for(tmp_path)
    header, _payload, signature = issue(issuer).split(".")
    claims = jwt.decode(issue(issuer), options={"verify_signature": False})
    claims["role"] = "force-admin"
    with pytest.raises(NotAuthenticated):
        issuer.verify(f"{header}.{b64(claims)}.{signature}")


@pytest.mark.parametrize("missing", ["exp", "iat", "nbf", "iss", "aud", "sub", "jti"])
def test_every_registered_claim_is_required(tmp_path, missing):
    issuer = issuer_for(tmp_path)
    claims = jwt.decode(issue(issuer), options={"verify_signature": False})
    del claims[missing]
    token = jwt.encode(
        claims, issuer.keys.active.private_key, algorithm="EdDSA",
        headers={"kid": issuer.keys.active.kid},
    )  # fmt: skip
    with pytest.raises(NotAuthenticated):
        issuer.verify(token)


@pytest.mark.parametrize("garbage", ["", "abc", "a.b.c", "😀.😀.😀", "e30.e30.e30"])
def test_garbage_is_rejected(tmp_path, garbage):
    with pytest.raises(NotAuthenticated):
        issuer_for(tmp_path).verify(garbage)


def test_rotation_signs_with_the_new_key_and_still_accepts_the_old(tmp_path):
    before = issuer_for(tmp_path)
    old_token = issue(before)
    new_kid = generate_key(tmp_path)
    after = issuer_for(tmp_path)
    assert after.keys.active.kid == new_kid != before.keys.active.kid
    assert after.verify(old_token).subject == 7
    assert jwt.get_unverified_header(issue(after))["kid"] == new_kid


def test_unknown_kid_is_rejected(tmp_path):
    elsewhere = issuer_for(tmp_path / "other")
    with pytest.raises(NotAuthenticated, match="unknown key"):
        issuer_for(tmp_path / "ours").verify(issue(elsewhere))
