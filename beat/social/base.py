"""What every channel adapter shares: timing and logging, and HTTP failures as ChannelError."""

from __future__ import annotations

import asyncio
import logging
import re
import time
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import ClassVar

import aiohttp

from beat.channels import ChannelError, ChannelKind, FailureKind, Media

log = logging.getLogger("beat.social")

# What the network can throw at a call; translated by `transport_error`.
TRANSPORT_ERRORS = (aiohttp.ClientError, TimeoutError)


class Adapter:
    """One account on one platform, reached through an injected session within a timeout."""

    kind: ClassVar[ChannelKind]

    def __init__(self, session: aiohttp.ClientSession, base_url: str, *, timeout: float) -> None:
        self.session = session
        self.base_url = base_url.rstrip("/")
        self.timeout = aiohttp.ClientTimeout(total=timeout)

    @asynccontextmanager
    async def timed(self, action: str) -> AsyncIterator[None]:
        """Log how long one platform call took and how it ended (never credentials or text)."""
        started = time.perf_counter()
        fields: dict[str, object] = {"channel": self.kind.value, "action": action}
        try:
            yield
        except ChannelError as exc:
            ms = round((time.perf_counter() - started) * 1000, 1)
            log.warning(
                "channel call failed",
                extra={**fields, "ms": ms, "failure": exc.kind.value, "detail": exc.detail},
            )
            raise
        ms = round((time.perf_counter() - started) * 1000, 1)
        log.info("channel call", extra={**fields, "ms": ms})


def transport_error(exc: BaseException, *, creating: bool) -> ChannelError:
    """A call that got no HTTP answer.

    Refused or timed out while connecting: nothing reached the platform. Otherwise the request
    may have arrived: for a post that is UNKNOWN_OUTCOME; for anything else (reads, deletes,
    uploads that nobody sees yet) trying again is harmless, so UNAVAILABLE.
    """
    name = type(exc).__name__
    if isinstance(exc, aiohttp.ClientConnectorError | aiohttp.ConnectionTimeoutError):
        return ChannelError(FailureKind.UNAVAILABLE, f"could not connect ({name})")
    if creating:
        return ChannelError(FailureKind.UNKNOWN_OUTCOME, f"sent, but no answer ({name})")
    return ChannelError(FailureKind.UNAVAILABLE, f"no answer ({name})")


def status_error(
    status: int, detail: str, *, creating: bool, retry_at: datetime | None = None
) -> ChannelError:
    """An HTTP error answer as a failure kind (platform quirks are the caller's to spot first)."""
    message = f"HTTP {status}: {detail}" if detail else f"HTTP {status}"
    if status == 401:
        return ChannelError(FailureKind.AUTH_FAILED, message)
    if status == 429:
        return ChannelError(FailureKind.RATE_LIMITED, message, retry_at=retry_at)
    if status == 504 and creating:
        # A gateway gave up waiting for the platform, which may have posted all the same.
        return ChannelError(FailureKind.UNKNOWN_OUTCOME, message)
    if status >= 500 or status == 408:
        return ChannelError(FailureKind.UNAVAILABLE, message, retry_at=retry_at)
    return ChannelError(FailureKind.REJECTED, message)


def epoch_time(value: str | int | None) -> datetime | None:
    """A Unix timestamp header (X's x-rate-limit-reset, Bluesky's ratelimit-reset)."""
    if value is None or value == "":
        return None
    try:
        return datetime.fromtimestamp(int(value), UTC)
    except (ValueError, OverflowError, OSError):
        return None


def iso_time(value: str | None) -> datetime | None:
    """An ISO 8601 timestamp header (Mastodon's X-RateLimit-Reset)."""
    if not value:
        return None
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def retry_after(headers: Mapping[str, str], now: datetime) -> datetime | None:
    """HTTP's Retry-After, in seconds or as a date."""
    value = headers.get("Retry-After", "").strip()
    if value.isdigit():
        return datetime.fromtimestamp(now.timestamp() + int(value), UTC)
    if value:
        try:
            return parsedate_to_datetime(value).astimezone(UTC)
        except (TypeError, ValueError):
            return None
    return None


async def read(media: Media) -> bytes:
    """A picture's bytes, read off the event loop; a missing file will not come back by retrying."""
    try:
        return await asyncio.to_thread(media.path.read_bytes)
    except OSError as exc:
        raise ChannelError(FailureKind.REJECTED, f"cannot read the picture ({exc})") from exc


_SPACE = re.compile(r"\s+")


def same_text(a: str, b: str) -> bool:
    """Whether two post texts are the same once the platform's whitespace handling is set aside."""
    return _SPACE.sub(" ", a).strip() == _SPACE.sub(" ", b).strip()
