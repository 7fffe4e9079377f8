"""Channel credentials, encrypted at rest with keys from the data dir (Fernet, rotatable)."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from cryptography.fernet import Fernet, InvalidToken, MultiFernet

from beat.errors import ConfigError, Invalid

# The shapes of credentials each kind of account accepts, as `beat channels add` reads them
# from stdin: (required fields, optional fields). X takes OAuth 1.0a user tokens, or OAuth 2.0
# user tokens with their refresh token (the client secret only for a confidential client).
SHAPES: dict[str, tuple[tuple[tuple[str, ...], tuple[str, ...]], ...]] = {
    "x": (
        (("consumer_key", "consumer_secret", "access_token", "access_token_secret"), ()),
        (("client_id", "access_token", "refresh_token"), ("client_secret",)),
    ),
    "mastodon": ((("base_url", "access_token"), ()),),
    "bluesky": ((("base_url", "handle", "app_password"), ()),),
}


class CredentialBox:
    """Seals credentials with the newest key; opens them with any key in the file."""

    def __init__(self, keys_file: Path) -> None:
        self.keys_file = keys_file
        keys = self._load()
        self._box = MultiFernet([Fernet(k) for k in keys])

    def _load(self) -> list[bytes]:
        if not self.keys_file.exists():
            self.keys_file.parent.mkdir(parents=True, exist_ok=True)
            os.chmod(self.keys_file.parent, 0o700)
            fd = os.open(self.keys_file, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(fd, "wb") as fh:
                fh.write(Fernet.generate_key() + b"\n")
        lines = [ln.strip() for ln in self.keys_file.read_bytes().splitlines() if ln.strip()]
        if not lines:
            raise ConfigError(f"{self.keys_file}: no keys")
        # Newest first: `beat channels rotate-key` prepends.
        return lines

    def seal(self, credentials: dict[str, str]) -> str:
        return self._box.encrypt(json.dumps(credentials, sort_keys=True).encode()).decode()

    def open(self, token: str) -> dict[str, str]:
        try:
            data: dict[str, str] = json.loads(self._box.decrypt(token.encode()))
        except InvalidToken as exc:
            raise ConfigError(
                "channel credentials cannot be decrypted with the keys on disk"
            ) from exc
        return data


def checked(kind: str, raw: Any) -> dict[str, str]:
    """The credentials for `kind` in one of its shapes: the required fields, all non-empty
    strings, and any of the optional ones; nothing else."""
    shapes = SHAPES.get(kind)
    if shapes is None:
        raise Invalid.field("kind", f"one of {', '.join(SHAPES)}")
    if not isinstance(raw, dict):
        raise Invalid.field("credentials", "must be a JSON object")
    # The shape meant is the one sharing most fields with what was sent.
    needed, optional = max(shapes, key=lambda shape: len(set(raw) & set(shape[0] + shape[1])))
    unknown = sorted(set(raw) - set(needed) - set(optional))
    missing = [k for k in needed if not _filled(raw.get(k))]
    blank = [k for k in optional if k in raw and not _filled(raw[k])]
    if unknown or missing or blank:
        problems = [f"missing {', '.join(missing)}"] if missing else []
        problems += [f"blank {', '.join(blank)}"] if blank else []
        problems += [f"unknown {', '.join(unknown)}"] if unknown else []
        raise Invalid.field("credentials", "; ".join(problems))
    cleaned = {k: raw[k].strip() for k in needed + optional if k in raw}
    if "base_url" in cleaned and not cleaned["base_url"].startswith(("https://", "http://")):
        raise Invalid.field("credentials", "base_url must be an http(s) URL")
    return cleaned


def _filled(value: object) -> bool:
    return isinstance(value, str) and bool(value.strip())
