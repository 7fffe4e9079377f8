"""What Beat needs of a social channel (X, Mastodon, Bluesky), and how channels fail."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from pathlib import Path
from typing import ClassVar, Protocol

from beat.errors import BeatError


class ChannelKind(StrEnum):
    X = "x"
    MASTODON = "mastodon"
    BLUESKY = "bluesky"


class FailureKind(StrEnum):
    RATE_LIMITED = "rate-limited"  # try again at retry_at
    REJECTED = "rejected"  # the platform refuses this content; retrying will not help
    DUPLICATE = "duplicate"  # the platform says it has this already: find out what it has
    AUTH_FAILED = "auth-failed"  # the account's credentials no longer work
    UNAVAILABLE = "unavailable"  # the platform is down or refused before acting: safe to retry
    UNKNOWN_OUTCOME = "unknown-outcome"  # sent, no answer: it may or may not be posted


class ChannelError(BeatError):
    """A channel call failed; `kind` says what may be done about it."""

    def __init__(self, kind: FailureKind, detail: str, *, retry_at: datetime | None = None) -> None:
        super().__init__(f"{kind.value}: {detail}")
        self.kind = kind
        self.retry_at = retry_at


@dataclass(frozen=True)
class Media:
    """A photo to attach: a JPEG file Beat stored, with its alt text."""

    path: Path
    alt_text: str
    mime_type: str = "image/jpeg"


@dataclass(frozen=True)
class Part:
    """One message of a (possibly threaded) delivery, already rendered for its channel."""

    text: str
    media: list[Media] = field(default_factory=list)
    # Bluesky rich-text facets (link spans in UTF-8 byte offsets); other channels ignore them.
    links: list[tuple[int, int, str]] = field(default_factory=list)


@dataclass(frozen=True)
class Sent:
    """Where a part now lives on the platform."""

    remote_id: str
    url: str = ""
    # Bluesky replies need the parent's content hash as well as its id.
    cid: str = ""


Renew = Callable[[dict[str, str]], Awaitable[dict[str, str]]]


class CredentialStore(Protocol):
    """Where an account's credentials live, for adapters whose tokens expire and are renewed.

    Renewal is a shared event: X rotates refresh tokens, so only one process may use a given
    refresh token, and the new pair must be stored before anything else can use it.
    """

    async def renew(self, stale: dict[str, str], fetch: Renew) -> dict[str, str]:
        """Under the account's lock: if the stored credentials still hold `stale`'s refresh
        token, call `fetch(stored)` and store its answer; otherwise another process renewed
        them first, and the stored ones are returned as they are."""


class Channel(Protocol):
    """One connected account on one platform."""

    kind: ClassVar[ChannelKind]

    async def check(self) -> str:
        """Verify the credentials; the account's handle. ChannelError(AUTH_FAILED) if not."""

    async def publish(self, part: Part, *, reply_to: Sent | None, key: str) -> Sent:
        """Post one part (as a reply to `reply_to` in a thread). `key` is stable per part.

        Raise ChannelError with the right kind; a timeout after the request went out is
        UNKNOWN_OUTCOME, never UNAVAILABLE.
        """

    async def delete(self, remote_id: str) -> None:
        """Remove a post; a post already gone is not an error."""

    async def find(self, text: str, *, reply_to: Sent | None) -> Sent | None:
        """A recent post of this account with exactly this text, in the same place, if any.

        The place matters as much as the text: a later part of a thread must be a reply to
        `reply_to` (two threads can share a part's text), and a first part must be no reply.
        Used to resolve DUPLICATE and UNKNOWN_OUTCOME by looking, not guessing.
        """
