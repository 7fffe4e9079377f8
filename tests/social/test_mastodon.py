"""The Mastodon adapter against a local server speaking Mastodon's REST API."""

from __future__ import annotations

import socket
import time
from datetime import UTC, datetime
from pathlib import Path

import aiohttp
import pytest
from aiohttp.test_utils import TestServer

from beat.channels import ChannelError, FailureKind, Media, Part
from beat.social.mastodon import MastodonChannel, plain_text
from tests.fakes.mastodon import ACCOUNT, TOKEN, FakeMastodon, to_html

TIMEOUT = 0.5  # long enough for a loaded CI machine, short enough to wait out
LINK = "https://beat.example/p/0f3c2b9a7d/road-closure-aldersgate-street?lang=en&x=1"


@pytest.fixture
def fake() -> FakeMastodon:
    return FakeMastodon()


def credentials(server: TestServer, token: str = TOKEN) -> dict[str, str]:
    return {"base_url": str(server.make_url("")), "access_token": token}


@pytest.fixture
def channel(server: TestServer, session: aiohttp.ClientSession) -> MastodonChannel:
    return MastodonChannel(credentials(server), session=session, timeout=TIMEOUT)


def picture(tmp_path: Path, size: int = 200_000) -> Path:
    path = tmp_path / "photo.jpg"
    path.write_bytes(b"\xff\xd8\xff" + bytes(size - 3))
    return path


async def failure(call: object) -> ChannelError:
    with pytest.raises(ChannelError) as caught:
        await call  # type: ignore[misc]
    return caught.value


# ---- what works ------------------------------------------------------------------------------


async def test_check_names_the_account(channel: MastodonChannel) -> None:
    assert await channel.check() == ACCOUNT["acct"]


async def test_publish_posts_the_text_publicly(
    channel: MastodonChannel, fake: FakeMastodon
) -> None:
    sent = await channel.publish(Part(f"Road closed: {LINK} #Aldersgate"), reply_to=None, key="k")

    post = fake.state.posts[sent.remote_id]
    assert post.text == f"Road closed: {LINK} #Aldersgate"
    assert post.extra["visibility"] == "public"
    assert post.extra["idempotency_key"] == "k"
    assert sent.url.endswith(f"/@citypolice/{sent.remote_id}")


async def test_the_same_key_twice_makes_one_status(
    channel: MastodonChannel, fake: FakeMastodon
) -> None:
    first = await channel.publish(Part("Once only"), reply_to=None, key="delivery-7-part-0")
    again = await channel.publish(Part("Once only"), reply_to=None, key="delivery-7-part-0")

    assert again == first
    assert len(fake.state.live()) == 1
    assert fake.state.requests["create"] == 2


async def test_publish_with_a_picture_sends_its_alt_text_as_description(
    channel: MastodonChannel, fake: FakeMastodon, tmp_path: Path
) -> None:
    photo = picture(tmp_path)
    part = Part("Found this bike", media=[Media(photo, "A red bicycle against railings")])

    sent = await channel.publish(part, reply_to=None, key="k")

    [media] = fake.state.posts[sent.remote_id].media
    assert media.alt_text == "A red bicycle against railings"
    assert media.size == photo.stat().st_size


async def test_a_picture_still_processing_is_waited_for(
    aiohttp_server, session: aiohttp.ClientSession, tmp_path: Path
) -> None:
    fake = FakeMastodon(processing_polls=2)
    server = await aiohttp_server(fake.app)
    channel = MastodonChannel(credentials(server), session=session, timeout=2)
    part = Part("Processing", media=[Media(picture(tmp_path), "alt")])

    sent = await channel.publish(part, reply_to=None, key="k")

    assert len(fake.state.posts[sent.remote_id].media) == 1
    assert fake.state.requests["media"] == 3  # upload (202), poll (206), poll (200)


async def test_thread_parts_reply_to_the_part_before(
    channel: MastodonChannel, fake: FakeMastodon
) -> None:
    first = await channel.publish(Part("1/3"), reply_to=None, key="a")
    second = await channel.publish(Part("2/3"), reply_to=first, key="b")
    third = await channel.publish(Part("3/3"), reply_to=second, key="c")

    assert fake.state.posts[second.remote_id].reply_to == first.remote_id
    assert fake.state.posts[third.remote_id].reply_to == second.remote_id


async def test_delete_removes_the_status_and_deleting_it_again_is_fine(
    channel: MastodonChannel, fake: FakeMastodon
) -> None:
    sent = await channel.publish(Part("Withdrawn soon"), reply_to=None, key="k")

    await channel.delete(sent.remote_id)
    await channel.delete(sent.remote_id)

    assert fake.state.posts[sent.remote_id].deleted


async def test_find_reads_the_text_back_out_of_the_html(
    channel: MastodonChannel, fake: FakeMastodon
) -> None:
    text = f'Stolen <e-scooter> & "helmet"\nCall 101\n\nDetails: {LINK} #CityOfLondon'
    sent = await channel.publish(Part(text), reply_to=None, key="k")
    await channel.publish(Part("Another"), reply_to=None, key="k2")

    found = await channel.find(text, reply_to=None)

    assert found is not None
    assert found.remote_id == sent.remote_id
    assert await channel.find("Never posted", reply_to=None) is None


def test_plain_text_undoes_mastodons_rendering() -> None:
    text = f"Line one & <two>\nLine three\n\n{LINK} #Tag"
    assert "<span" in to_html(text)
    assert plain_text(to_html(text)) == text


# ---- how it fails ----------------------------------------------------------------------------


async def test_a_wrong_token_is_auth_failed(
    server: TestServer, session: aiohttp.ClientSession
) -> None:
    channel = MastodonChannel(credentials(server, "revoked"), session=session, timeout=TIMEOUT)

    error = await failure(channel.check())

    assert error.kind is FailureKind.AUTH_FAILED


async def test_text_over_500_characters_is_rejected(
    channel: MastodonChannel, fake: FakeMastodon
) -> None:
    error = await failure(channel.publish(Part("x" * 501), reply_to=None, key="k"))

    assert error.kind is FailureKind.REJECTED
    assert "500" in error.detail
    assert fake.state.live() == []


async def test_content_mastodon_refuses_is_rejected(
    channel: MastodonChannel, fake: FakeMastodon
) -> None:
    fake.reject_next()

    error = await failure(channel.publish(Part("Hello"), reply_to=None, key="k"))

    assert error.kind is FailureKind.REJECTED


async def test_rate_limited_carries_the_reset_time_mastodon_gives(
    channel: MastodonChannel, fake: FakeMastodon
) -> None:
    fake.rate_limit(for_seconds=5, reset_in=300)
    expected = datetime.fromtimestamp(time.time() + 300, UTC)

    error = await failure(channel.publish(Part("Hello"), reply_to=None, key="k"))

    assert error.kind is FailureKind.RATE_LIMITED
    assert error.retry_at is not None
    assert abs((error.retry_at - expected).total_seconds()) <= 1


@pytest.mark.parametrize("status", [500, 502, 503])
async def test_a_server_error_is_unavailable(
    channel: MastodonChannel, fake: FakeMastodon, status: int
) -> None:
    fake.fail_next(1, status=status)

    error = await failure(channel.publish(Part("Hello"), reply_to=None, key="k"))

    assert error.kind is FailureKind.UNAVAILABLE


async def test_nobody_listening_is_unavailable(session: aiohttp.ClientSession) -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    channel = MastodonChannel(
        {"base_url": f"http://127.0.0.1:{port}", "access_token": TOKEN},
        session=session,
        timeout=TIMEOUT,
    )

    error = await failure(channel.publish(Part("Hello"), reply_to=None, key="k"))

    assert error.kind is FailureKind.UNAVAILABLE


async def test_no_answer_in_time_after_storing_is_unknown_outcome_and_a_retry_is_safe(
    channel: MastodonChannel, fake: FakeMastodon
) -> None:
    fake.slow(TIMEOUT + 0.3)

    error = await failure(channel.publish(Part("Slow one"), reply_to=None, key="k"))
    again = await channel.publish(Part("Slow one"), reply_to=None, key="k")

    assert error.kind is FailureKind.UNKNOWN_OUTCOME
    assert [p.id for p in fake.state.live()] == [again.remote_id]


async def test_a_dropped_connection_after_storing_is_unknown_outcome(
    channel: MastodonChannel, fake: FakeMastodon
) -> None:
    fake.drop_after_store()

    error = await failure(channel.publish(Part("Dropped"), reply_to=None, key="k"))

    assert error.kind is FailureKind.UNKNOWN_OUTCOME
    assert fake.state.texts() == ["Dropped"]


async def test_a_failed_picture_upload_is_unavailable_as_nothing_was_posted(
    channel: MastodonChannel, fake: FakeMastodon, tmp_path: Path
) -> None:
    fake.drop_after_store(on="media")
    part = Part("With picture", media=[Media(picture(tmp_path), "alt")])

    error = await failure(channel.publish(part, reply_to=None, key="k"))

    assert error.kind is FailureKind.UNAVAILABLE
    assert fake.state.live() == []


async def test_find_tells_a_later_thread_part_by_what_it_answers(channel: MastodonChannel) -> None:
    """Two threads can share a later part's text: only the one answering the right parent counts."""
    first = await channel.publish(Part("Thread one starts here"), reply_to=None, key="a1")
    other = await channel.publish(Part("Thread two starts here"), reply_to=None, key="b1")
    reply = await channel.publish(Part("Call 101 with information."), reply_to=first, key="a2")

    found = await channel.find("Call 101 with information.", reply_to=first)

    assert found is not None and found.remote_id == reply.remote_id
    assert await channel.find("Call 101 with information.", reply_to=other) is None
    assert await channel.find("Call 101 with information.", reply_to=None) is None
    assert await channel.find("Thread two starts here", reply_to=first) is None
    found_root = await channel.find("Thread two starts here", reply_to=None)
    assert found_root is not None and found_root.remote_id == other.remote_id
