"""The one error tree of Beat; the API maps it to problem documents in one place."""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime


class BeatError(Exception):
    """Base class for every error Beat raises on purpose."""

    def __init__(self, detail: str) -> None:
        super().__init__(detail)
        self.detail = detail


class ConfigError(BeatError):
    """A setting is missing or malformed."""


@dataclass(frozen=True)
class FieldError:
    """One problem with one input field, named by a JSON pointer-like path."""

    field: str
    reason: str


class Invalid(BeatError):
    """Input was well-formed but its values are not acceptable."""

    def __init__(self, detail: str, errors: list[FieldError] | None = None) -> None:
        super().__init__(detail)
        self.errors = errors or []

    @classmethod
    def field(cls, name: str, reason: str) -> Invalid:
        return cls(f"{name}: {reason}", [FieldError(name, reason)])


class NotFound(BeatError):
    """The thing asked for does not exist, or the actor may not know it exists."""


class NotAuthenticated(BeatError):
    """No valid credentials were presented."""


class NotAllowed(BeatError):
    """The actor is known but may not do this."""


class Conflict(BeatError):
    """The request clashes with the current state (a duplicate, a stale version)."""


class Throttled(BeatError):
    """Too many attempts; try again after `retry_at`."""

    def __init__(self, detail: str, *, retry_at: datetime, now: datetime) -> None:
        super().__init__(detail)
        self.retry_at = retry_at
        self.retry_after_seconds = max(1, math.ceil((retry_at - now).total_seconds()))


class SourceError(BeatError):
    """An outside data source (police.uk, a folder of its files) gave something unusable."""

    def __init__(self, detail: str, *, location: str | None = None) -> None:
        super().__init__(f"{location}: {detail}" if location else detail)
        self.location = location


class SourceMissing(SourceError):
    """The source has no document at that path: police.uk's 404, or no such file."""
