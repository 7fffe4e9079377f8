"""Signing keys and access tokens: EdDSA JWTs with a `kid`, keys kept in the data dir."""

from __future__ import annotations

import base64
import fcntl
import hashlib
import os
import secrets
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from beat.errors import ConfigError, NotAuthenticated

ALGORITHM = "EdDSA"
REQUIRED_CLAIMS = ["exp", "iat", "nbf", "iss", "aud", "sub", "jti"]
_KEY_SUFFIX = ".ed25519.pem"


def _kid_for(public_key: Ed25519PublicKey) -> str:
    """RFC 7638 thumbprint of the OKP JWK, so a kid always names exactly one key."""
    raw = public_key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    x = base64.urlsafe_b64encode(raw).rstrip(b"=").decode()
    canonical = f'{{"crv":"Ed25519","kty":"OKP","x":"{x}"}}'
    return (
        base64.urlsafe_b64encode(hashlib.sha256(canonical.encode()).digest()).rstrip(b"=").decode()
    )


@dataclass(frozen=True)
class SigningKey:
    kid: str
    private_key: Ed25519PrivateKey
    created: int

    @property
    def public_key(self) -> Ed25519PublicKey:
        return self.private_key.public_key()


class KeyRing:
    """All known signing keys; the newest signs, every one still verifies (rotation)."""

    def __init__(self, keys: list[SigningKey], directory: Path | None = None) -> None:
        if not keys:
            raise ConfigError("no signing keys")
        self.directory = directory
        self._keys = {k.kid: k for k in keys}
        self._active = max(keys, key=lambda k: (k.created, k.kid))

    @property
    def active(self) -> SigningKey:
        return self._active

    def get(self, kid: str) -> SigningKey | None:
        return self._keys.get(kid)

    @property
    def kids(self) -> list[str]:
        return sorted(self._keys)

    @classmethod
    def load(cls, directory: Path, *, create: bool = True) -> KeyRing:
        """Read every key in `directory`; make the first one if there is none."""
        keys = _read_keys(directory)
        if not keys:
            if not create:
                raise ConfigError(f"no signing keys in {directory}")
            with _dir_lock(directory):
                # Another process may have made the first key while we waited for the lock.
                if not _read_keys(directory):
                    generate_key(directory)
            keys = _read_keys(directory)
        return cls(keys, directory)


def _read_keys(directory: Path) -> list[SigningKey]:
    if not directory.is_dir():
        return []
    keys = []
    for path in sorted(directory.glob(f"*{_KEY_SUFFIX}")):
        try:
            loaded = serialization.load_pem_private_key(path.read_bytes(), password=None)
        except ValueError as exc:
            raise ConfigError(f"{path}: not a PEM private key") from exc
        if not isinstance(loaded, Ed25519PrivateKey):
            raise ConfigError(f"{path}: not an Ed25519 key")
        keys.append(SigningKey(_kid_for(loaded.public_key()), loaded, path.stat().st_mtime_ns))
    return keys


@contextmanager
def _dir_lock(directory: Path) -> Iterator[None]:
    directory.mkdir(parents=True, exist_ok=True)
    with (directory / ".lock").open("w") as fh:
        fcntl.flock(fh, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)


def generate_key(directory: Path) -> str:
    """Write a new Ed25519 key (mode 0600) and return its kid; it becomes the active key."""
    directory.mkdir(parents=True, exist_ok=True)
    os.chmod(directory, 0o700)
    key = Ed25519PrivateKey.generate()
    kid = _kid_for(key.public_key())
    pem = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    path = directory / f"{kid}{_KEY_SUFFIX}"
    tmp = path.with_suffix(".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as fh:
        fh.write(pem)
    tmp.replace(path)
    return kid


@dataclass(frozen=True)
class AccessClaims:
    subject: int
    session_id: uuid.UUID
    role: str
    force: str | None
    jti: str
    expires_at: datetime


class TokenIssuer:
    """Makes and checks access tokens for one issuer and audience."""

    def __init__(self, keys: KeyRing, *, issuer: str, audience: str, ttl: timedelta) -> None:
        self.keys = keys
        self._reloaded_at = time.monotonic()
        self.issuer = issuer
        self.audience = audience
        self.ttl = ttl

    def issue(
        self, *, user_id: int, session_id: uuid.UUID, role: str, force: str | None, now: datetime
    ) -> tuple[str, datetime]:
        expires = now + self.ttl
        claims: dict[str, Any] = {
            "iss": self.issuer,
            "aud": self.audience,
            "sub": str(user_id),
            "sid": str(session_id),
            "role": role,
            "force": force,
            "iat": int(now.timestamp()),
            "nbf": int(now.timestamp()),
            "exp": int(expires.timestamp()),
            "jti": secrets.token_urlsafe(16),
        }
        key = self.keys.active
        token = jwt.encode(claims, key.private_key, algorithm=ALGORITHM, headers={"kid": key.kid})
        return token, expires

    def _reload_for(self, kid: str) -> SigningKey | None:
        """A key rotated in by another process: re-read the key folder, at most every 10 s."""
        if self.keys.directory is None or time.monotonic() - self._reloaded_at < 10:
            return None
        self._reloaded_at = time.monotonic()
        self.keys = KeyRing.load(self.keys.directory, create=False)
        return self.keys.get(kid)

    def verify(self, token: str) -> AccessClaims:
        """Check signature, algorithm, kid and every required claim; NotAuthenticated if not."""
        try:
            header = jwt.get_unverified_header(token)
        except jwt.PyJWTError as exc:
            raise NotAuthenticated("the access token is malformed") from exc
        if header.get("alg") != ALGORITHM:
            raise NotAuthenticated(
                "the access token uses an algorithm this service does not accept"
            )
        kid = header.get("kid")
        key = self.keys.get(kid) if isinstance(kid, str) else None
        if key is None and isinstance(kid, str):
            key = self._reload_for(kid)
        if key is None:
            raise NotAuthenticated("the access token was signed by an unknown key")
        try:
            # exp, nbf and iat are checked against the real clock, with a little leeway for
            # phones whose clocks drift.
            claims = jwt.decode(
                token,
                key.public_key,
                algorithms=[ALGORITHM],
                audience=self.audience,
                issuer=self.issuer,
                options={"require": REQUIRED_CLAIMS},
                leeway=timedelta(seconds=30),
            )
        except jwt.ExpiredSignatureError as exc:
            raise NotAuthenticated("the access token has expired") from exc
        except jwt.PyJWTError as exc:
            raise NotAuthenticated(f"the access token is not valid: {exc}") from exc
        try:
            return AccessClaims(
                subject=int(claims["sub"]),
                session_id=uuid.UUID(str(claims["sid"])),
                role=str(claims["role"]),
                force=claims.get("force"),
                jti=str(claims["jti"]),
                expires_at=datetime.fromtimestamp(int(claims["exp"]), tz=UTC),
            )
        except (KeyError, ValueError, TypeError) as exc:
            raise NotAuthenticated("the access token's claims are malformed") from exc
