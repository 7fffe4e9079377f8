"""Process settings, read from the environment once at start-up."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import timedelta
from pathlib import Path

from beat.errors import ConfigError


def _seconds(
    env: Mapping[str, str], name: str, default: int, *, allow_zero: bool = False
) -> timedelta:
    raw = env.get(name)
    if raw is None or raw == "":
        return timedelta(seconds=default)
    try:
        value = int(raw)
    except ValueError as exc:
        raise ConfigError(f"{name} must be a whole number of seconds, not {raw!r}") from exc
    if value < 0 or (value == 0 and not allow_zero):
        raise ConfigError(f"{name} must be positive, not {value}")
    return timedelta(seconds=value)


def _int(env: Mapping[str, str], name: str, default: int) -> int:
    raw = env.get(name)
    if raw is None or raw == "":
        return default
    try:
        return int(raw)
    except ValueError as exc:
        raise ConfigError(f"{name} must be a whole number, not {raw!r}") from exc


def _float(env: Mapping[str, str], name: str, default: float) -> float:
    raw = env.get(name)
    if raw is None or raw == "":
        return default
    try:
        value = float(raw)
    except ValueError as exc:
        raise ConfigError(f"{name} must be a number of seconds, not {raw!r}") from exc
    if not value > 0:
        raise ConfigError(f"{name} must be positive, not {raw}")
    return value


# Where browsers' Web Push subscriptions point: FCM (Chrome, Edge, Android), Mozilla, Apple, WNS.
PUSH_SERVICE_HOSTS = (
    "fcm.googleapis.com",
    "push.services.mozilla.com",
    "push.apple.com",
    "notify.windows.com",
)


@dataclass(frozen=True)
class Settings:
    """Everything a Beat process needs to know; build it directly in tests."""

    data_dir: Path = Path("beat-data")
    database_url: str = ""
    keys_dir: Path | None = None
    jwt_issuer: str = "beat"
    jwt_audience: str = "beat-app"
    access_token_ttl: timedelta = timedelta(minutes=15)
    refresh_token_ttl: timedelta = timedelta(days=30)
    # A refresh token presented again this soon, before its successor is used, is a retry.
    refresh_reuse_grace: timedelta = timedelta(seconds=30)
    # Login throttling: failures allowed per window before the key is locked for the window.
    login_failures_per_account: int = 5
    login_failures_per_address: int = 30
    login_window: timedelta = timedelta(minutes=15)
    max_json_body: int = 64 * 1024
    max_photo_bytes: int = 15 * 1024 * 1024
    # Publish due posts and expire stale approvals from the web process (tests turn it off
    # and call the jobs themselves; the scheduler issue moves them to `beat worker`).
    background_jobs: bool = True
    # Every named job at this one interval instead of its own (tests and demos want ticks in
    # seconds, not hours); None keeps the job table's intervals.
    job_interval_seconds: float | None = None
    # The scheduler's leader lease: a new leader takes over within about this long.
    scheduler_lease_seconds: float = 15.0
    x_api_url: str = "https://api.twitter.com"
    channel_timeout_seconds: float = 20.0
    delivery_max_attempts: int = 8
    delivery_lease_seconds: float = 120.0
    delivery_backoff_base_seconds: float = 10.0
    # How often an idle worker looks for due deliveries it was not woken for.
    delivery_poll_seconds: float = 1.0
    public_base_url: str = "http://127.0.0.1:8080"
    policeuk_base_url: str = "https://data.police.uk/api"
    # Forces whose crime data the daily job keeps up to date from the police.uk API (none: off).
    policeuk_crime_forces: tuple[str, ...] = field(default_factory=tuple)
    trusted_proxies: tuple[str, ...] = field(default_factory=tuple)
    # Web Push (VAPID) for area alerts: the private key (PEM, or base64url raw or DER; else
    # the file vapid_key_file), the contact push services see, and the push services'
    # host names (and their subdomains) devices may subscribe with.
    vapid_private_key: str = field(default="", repr=False)
    vapid_subject: str = ""
    push_service_hosts: tuple[str, ...] = PUSH_SERVICE_HOSTS

    def __post_init__(self) -> None:
        if not self.database_url:
            sqlite_path = (self.data_dir / "beat.sqlite3").resolve()
            object.__setattr__(self, "database_url", f"sqlite://{sqlite_path}")
        if self.keys_dir is None:
            object.__setattr__(self, "keys_dir", self.data_dir / "keys")

    @property
    def signing_keys_dir(self) -> Path:
        assert self.keys_dir is not None
        return self.keys_dir

    @property
    def channel_keys_file(self) -> Path:
        return self.data_dir / "secrets" / "channel-keys"

    @property
    def vapid_key_file(self) -> Path:
        return self.data_dir / "secrets" / "vapid-private-key.pem"

    @property
    def photos_dir(self) -> Path:
        return self.data_dir / "photos"

    @property
    def is_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite")

    def with_overrides(self, **changes: object) -> Settings:
        return replace(self, **changes)  # type: ignore[arg-type]

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> Settings:
        env = os.environ if env is None else env
        data_dir = Path(env.get("BEAT_DATA_DIR") or "beat-data")
        keys = env.get("BEAT_KEYS_DIR")
        proxies = tuple(
            p.strip() for p in env.get("BEAT_TRUSTED_PROXIES", "").split(",") if p.strip()
        )
        return cls(
            data_dir=data_dir,
            database_url=env.get("BEAT_DATABASE_URL", ""),
            keys_dir=Path(keys) if keys else None,
            jwt_issuer=env.get("BEAT_JWT_ISSUER") or "beat",
            jwt_audience=env.get("BEAT_JWT_AUDIENCE") or "beat-app",
            access_token_ttl=_seconds(env, "BEAT_ACCESS_TOKEN_TTL", 15 * 60),
            refresh_token_ttl=_seconds(env, "BEAT_REFRESH_TOKEN_TTL", 30 * 24 * 3600),
            refresh_reuse_grace=_seconds(env, "BEAT_REFRESH_REUSE_GRACE", 30, allow_zero=True),
            login_failures_per_account=_int(env, "BEAT_LOGIN_FAILURES_PER_ACCOUNT", 5),
            login_failures_per_address=_int(env, "BEAT_LOGIN_FAILURES_PER_ADDRESS", 30),
            login_window=_seconds(env, "BEAT_LOGIN_WINDOW", 15 * 60),
            max_json_body=_int(env, "BEAT_MAX_JSON_BODY", 64 * 1024),
            max_photo_bytes=_int(env, "BEAT_MAX_PHOTO_BYTES", 15 * 1024 * 1024),
            public_base_url=env.get("BEAT_PUBLIC_BASE_URL") or "http://127.0.0.1:8080",
            policeuk_base_url=env.get("BEAT_POLICEUK_BASE_URL") or "https://data.police.uk/api",
            policeuk_crime_forces=tuple(
                f.strip() for f in env.get("BEAT_POLICEUK_CRIME_FORCES", "").split(",") if f.strip()
            ),
            trusted_proxies=proxies,
            x_api_url=env.get("BEAT_X_API_URL") or "https://api.twitter.com",
            delivery_max_attempts=_int(env, "BEAT_DELIVERY_MAX_ATTEMPTS", 8),
            delivery_lease_seconds=_float(env, "BEAT_DELIVERY_LEASE_SECONDS", 120.0),
            delivery_backoff_base_seconds=_float(env, "BEAT_DELIVERY_BACKOFF_BASE", 10.0),
            job_interval_seconds=(
                _float(env, "BEAT_JOB_INTERVAL_SECONDS", 0.0)
                if env.get("BEAT_JOB_INTERVAL_SECONDS")
                else None
            ),
            scheduler_lease_seconds=_float(env, "BEAT_SCHEDULER_LEASE_SECONDS", 15.0),
            vapid_private_key=env.get("BEAT_VAPID_PRIVATE_KEY", ""),
            vapid_subject=env.get("BEAT_VAPID_SUBJECT", ""),
            push_service_hosts=tuple(
                h.strip().lower()
                for h in env.get("BEAT_PUSH_SERVICE_HOSTS", "").split(",")
                if h.strip()
            )
            or PUSH_SERVICE_HOSTS,
        )
