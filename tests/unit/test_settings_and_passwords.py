from datetime import timedelta
from pathlib import Path

import pytest

from beat import passwords
from beat.errors import ConfigError, Invalid
from beat.settings import Settings


def test_no_environment_gives_a_working_sqlite_default():
    settings = Settings.from_env({})
    assert settings.database_url == f"sqlite://{Path('beat-data/beat.sqlite3').resolve()}"
    assert settings.signing_keys_dir == Path("beat-data/keys")
    assert settings.access_token_ttl == timedelta(minutes=15)


def test_environment_overrides_are_read():
    settings = Settings.from_env(
        {"BEAT_DATA_DIR": "/srv/beat", "BEAT_DATABASE_URL": "postgres://u:p@db:5432/beat",
         "BEAT_ACCESS_TOKEN_TTL": "300", "BEAT_TRUSTED_PROXIES": "10.0.0.1, 10.0.0.2"}
    )  # fmt: skip
    assert settings.database_url == "postgres://u:p@db:5432/beat"
    assert settings.signing_keys_dir == Path("/srv/beat/keys")
    assert settings.access_token_ttl == timedelta(seconds=300)
    assert settings.trusted_proxies == ("10.0.0.1", "10.0.0.2")


@pytest.mark.parametrize("value", ["soon", "-5", "0", "1.5"])
def test_a_malformed_lifetime_is_a_config_error_naming_the_setting(value):
    with pytest.raises(ConfigError, match="BEAT_ACCESS_TOKEN_TTL"):
        Settings.from_env({"BEAT_ACCESS_TOKEN_TTL": value})


def test_passwords_hash_with_argon2id_and_verify():
    hashed = passwords.hash_password("a long enough passphrase")
    assert hashed.startswith("$argon2id$")
    assert passwords.verify_password(hashed, "a long enough passphrase")
    assert not passwords.verify_password(hashed, "a long enough passphrasE")
    assert not passwords.verify_password(None, "anything at all")
    assert not passwords.verify_password("not a hash", "anything at all")


@pytest.mark.parametrize("weak", ["short", " " * 20, "x" * 1025])
def test_weak_passwords_are_refused(weak):
    with pytest.raises(Invalid):
        passwords.check_strength(weak)


def test_delivery_and_scheduler_settings_are_read_from_the_environment():
    settings = Settings.from_env(
        {"BEAT_DELIVERY_LEASE_SECONDS": "5", "BEAT_DELIVERY_BACKOFF_BASE": "0.5",
         "BEAT_JOB_INTERVAL_SECONDS": "2", "BEAT_SCHEDULER_LEASE_SECONDS": "3",
         "BEAT_X_API_URL": "http://127.0.0.1:9999"}
    )  # fmt: skip
    assert (settings.delivery_lease_seconds, settings.delivery_backoff_base_seconds) == (5.0, 0.5)
    assert (settings.job_interval_seconds, settings.scheduler_lease_seconds) == (2.0, 3.0)
    assert settings.x_api_url == "http://127.0.0.1:9999"
    assert Settings.from_env({}).job_interval_seconds is None
    with pytest.raises(ConfigError, match="BEAT_DELIVERY_LEASE_SECONDS"):
        Settings.from_env({"BEAT_DELIVERY_LEASE_SECONDS": "-1"})
