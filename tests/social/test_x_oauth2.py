"""X with OAuth 2.0 user tokens: bearer calls, renewal before expiry and after a 401, one
renewal at a time (X spends the refresh token), the new pair stored encrypted in the database."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

import aiohttp
import pytest
from aiohttp.test_utils import TestServer

from beat import channel_accounts, credentials
from beat.channels import ChannelError, FailureKind, Media, Part
from beat.credentials import CredentialBox
from beat.errors import Invalid
from beat.models import ChannelAccount
from beat.social.x import XChannel
from tests.fakes.x import USER, FakeX
from tests.helpers import ALDERSGATE, DEMO_FORCE, create_areas

TIMEOUT = 2.0


@pytest.fixture
def fake() -> FakeX:
    return FakeX()


def channel_for(server: TestServer, session: aiohttp.ClientSession, creds, **kwargs) -> XChannel:  # type: ignore[no-untyped-def]
    return XChannel(
        creds, session=session, base_url=str(server.make_url("")), timeout=TIMEOUT, **kwargs
    )


async def test_an_oauth2_account_checks_posts_threads_finds_and_deletes(
    server, session, fake, tmp_path: Path
) -> None:
    channel = channel_for(server, session, fake.issue_oauth2_tokens())
    assert await channel.check() == USER["username"]
    picture = tmp_path / "photo.jpg"
    picture.write_bytes(b"\xff\xd8\xff" + bytes(2_000))
    first = await channel.publish(
        Part("Road closed", media=[Media(picture, "The closed road")]), reply_to=None, key="k1"
    )
    second = await channel.publish(Part("Diversion via Long Lane"), reply_to=first, key="k2")
    assert fake.state.posts[second.remote_id].reply_to == first.remote_id
    assert fake.state.posts[first.remote_id].media[0].alt_text == "The closed road"
    found = await channel.find("Diversion via Long Lane", reply_to=first)
    assert found is not None and found.remote_id == second.remote_id
    await channel.delete(second.remote_id)
    assert fake.state.texts() == ["Road closed"]
    assert fake.refreshed == 0


async def test_an_expired_token_is_renewed_once_and_the_post_made_once(
    server, session, fake
) -> None:
    creds = fake.issue_oauth2_tokens()
    channel = channel_for(server, session, creds)
    fake.expire_access_tokens()

    await channel.publish(Part("After the renewal"), reply_to=None, key="k")

    assert fake.state.texts() == ["After the renewal"]
    assert fake.refreshed == 1
    assert creds["refresh_token"] not in fake.refresh_tokens  # spent: X rotates them
    assert channel.credentials["refresh_token"] in fake.refresh_tokens
    assert float(channel.credentials["expires_at"]) > time.time() + 3600


async def test_a_token_about_to_expire_is_renewed_before_the_call(server, session, fake) -> None:
    creds = {**fake.issue_oauth2_tokens(), "expires_at": str(int(time.time()) + 30)}
    channel = channel_for(server, session, creds)

    await channel.publish(Part("Renewed first"), reply_to=None, key="k")

    assert fake.refreshed == 1
    assert fake.state.requests["create"] == 1  # no refused attempt before it


async def test_concurrent_calls_after_expiry_share_one_renewal(server, session, fake) -> None:
    channel = channel_for(server, session, fake.issue_oauth2_tokens())
    fake.expire_access_tokens()

    await asyncio.gather(
        *(channel.publish(Part(f"Post {i}"), reply_to=None, key=f"k{i}") for i in range(5))
    )

    assert sorted(fake.state.texts()) == [f"Post {i}" for i in range(5)]
    assert fake.refreshed == 1


async def test_a_revoked_refresh_token_is_an_auth_failure_and_nothing_goes_out(
    server, session, fake
) -> None:
    channel = channel_for(server, session, fake.issue_oauth2_tokens())
    fake.expire_access_tokens()
    fake.refresh_tokens.clear()  # the user revoked the app

    with pytest.raises(ChannelError) as caught:
        await channel.publish(Part("Never"), reply_to=None, key="k")

    assert caught.value.kind == FailureKind.AUTH_FAILED
    assert "renew" in caught.value.detail
    assert fake.state.texts() == []


async def test_an_outage_at_the_token_endpoint_is_unavailable_not_auth(
    server, session, fake
) -> None:
    channel = channel_for(server, session, fake.issue_oauth2_tokens())
    fake.expire_access_tokens()
    fake.fail_next(1, 503, on="oauth2")

    with pytest.raises(ChannelError) as caught:
        await channel.publish(Part("Later"), reply_to=None, key="k")

    assert caught.value.kind == FailureKind.UNAVAILABLE
    await channel.publish(Part("Later"), reply_to=None, key="k")  # the refresh token still works
    assert fake.state.texts() == ["Later"]


async def test_renewals_go_through_the_database_one_process_at_a_time(
    db, demo_areas, settings, clock, server, session, fake
) -> None:
    """Two adapters built from the same stored credentials, as two processes would be: one
    renewal at X, both posts out, and the database left holding the live refresh token."""
    await create_areas(demo_areas)
    box = CredentialBox(settings.channel_keys_file)
    issued = fake.issue_oauth2_tokens()
    view = await channel_accounts.add_account(
        None, DEMO_FORCE, kind="x", name="City Police X", neighbourhoods=[ALDERSGATE],
        force_wide=False, raw_credentials=issued, box=box, now=clock(),
    )  # fmt: skip
    account = view.account
    stored = box.open(account.credentials)
    one = channel_for(
        server, session, stored, store=channel_accounts.StoredCredentials(account.id, box)
    )
    two = channel_for(
        server, session, stored, store=channel_accounts.StoredCredentials(account.id, box)
    )
    fake.expire_access_tokens()

    await asyncio.gather(
        one.publish(Part("From process one"), reply_to=None, key="a"),
        two.publish(Part("From process two"), reply_to=None, key="b"),
    )

    assert sorted(fake.state.texts()) == ["From process one", "From process two"]
    assert fake.refreshed == 1
    row = await ChannelAccount.get(id=account.id)
    now_stored = box.open(row.credentials)
    assert now_stored["refresh_token"] in fake.refresh_tokens
    assert now_stored["refresh_token"] != issued["refresh_token"]
    assert now_stored["access_token"] not in row.credentials  # sealed, not plain
    fresh = channel_for(server, session, now_stored)  # a process starting later
    assert await fresh.check() == USER["username"]
    assert fake.refreshed == 1


def test_oauth2_credentials_are_accepted_in_their_own_shape_only() -> None:
    oauth2 = {
        "client_id": "cid",
        "client_secret": "cs",
        "access_token": "at",
        "refresh_token": "rt",
    }
    assert credentials.checked("x", oauth2) == oauth2
    public_client = {k: v for k, v in oauth2.items() if k != "client_secret"}
    assert credentials.checked("x", public_client) == public_client
    with pytest.raises(Invalid) as missing:
        credentials.checked("x", {"client_id": "cid", "access_token": "at"})
    assert "missing refresh_token" in str(missing.value.errors)
    with pytest.raises(Invalid) as mixed:
        credentials.checked("x", {**oauth2, "consumer_key": "ck"})
    assert "unknown consumer_key" in str(mixed.value.errors)
    with pytest.raises(Invalid) as blank:
        credentials.checked("x", {**oauth2, "client_secret": " "})
    assert "blank client_secret" in str(blank.value.errors)
