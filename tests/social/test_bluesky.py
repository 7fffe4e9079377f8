"""The Bluesky adapter against a local server speaking the PDS's XRPC methods."""

from __future__ import annotations

import io
import random
import socket
import time
from datetime import UTC, datetime
from pathlib import Path

import aiohttp
import pytest
from aiohttp.test_utils import TestServer
from PIL import Image

from beat.channels import ChannelError, FailureKind, Media, Part
from beat.social.bluesky import BLOB_LIMIT, BlueskyChannel, fit_blob, rkey_of
from tests.fakes.bluesky import APP_PASSWORD, DID, HANDLE, FakeBluesky

TIMEOUT = 0.5  # long enough for a loaded CI machine, short enough to wait out
LINK = "https://beat.example/p/0f3c"


@pytest.fixture
def fake() -> FakeBluesky:
    return FakeBluesky()


def credentials(server: TestServer, password: str = APP_PASSWORD) -> dict[str, str]:
    return {"base_url": str(server.make_url("")), "handle": HANDLE, "app_password": password}


@pytest.fixture
def channel(server: TestServer, session: aiohttp.ClientSession) -> BlueskyChannel:
    return BlueskyChannel(credentials(server), session=session, timeout=TIMEOUT)


def picture(tmp_path: Path, size: int = 300_000, name: str = "photo.jpg") -> Path:
    path = tmp_path / name
    path.write_bytes(b"\xff\xd8\xff" + bytes(size - 3))
    return path


async def failure(call: object) -> ChannelError:
    with pytest.raises(ChannelError) as caught:
        await call  # type: ignore[misc]
    return caught.value


def with_link(prefix: str) -> Part:
    """A part whose link span is given in UTF-8 bytes, as the renderer gives it."""
    text = f"{prefix} {LINK}"
    start = len(f"{prefix} ".encode())
    return Part(text, links=[(start, start + len(LINK.encode()), LINK)])


# ---- what works ------------------------------------------------------------------------------


async def test_check_signs_in_and_names_the_account(
    channel: BlueskyChannel, fake: FakeBluesky
) -> None:
    assert await channel.check() == HANDLE
    assert fake.state.requests["session"] == 1


async def test_publish_posts_the_text_with_its_link_facets(
    channel: BlueskyChannel, fake: FakeBluesky
) -> None:
    part = with_link("Café closed — details:")

    sent = await channel.publish(part, reply_to=None, key="k")

    post = fake.state.posts[sent.remote_id]
    assert post.text == part.text
    [facet] = post.extra["facets"]
    start, end = facet["index"]["byteStart"], facet["index"]["byteEnd"]
    assert part.text.encode()[start:end].decode() == LINK
    assert facet["features"] == [{"$type": "app.bsky.richtext.facet#link", "uri": LINK}]
    assert sent.cid == post.extra["cid"]
    assert sent.url == f"https://bsky.app/profile/{HANDLE}/post/{rkey_of(sent.remote_id)}"
    assert sent.remote_id.startswith(f"at://{DID}/app.bsky.feed.post/")


async def test_one_sign_in_serves_many_posts(channel: BlueskyChannel, fake: FakeBluesky) -> None:
    for n in range(3):
        await channel.publish(Part(f"Post {n}"), reply_to=None, key=str(n))

    assert fake.state.requests["session"] == 1


async def test_publish_with_pictures_embeds_them_with_alt_text(
    channel: BlueskyChannel, fake: FakeBluesky, tmp_path: Path
) -> None:
    media = [
        Media(picture(tmp_path, name="a.jpg"), "A red bicycle"),
        Media(picture(tmp_path, 1000, name="b.jpg"), "Its broken lock"),
    ]

    sent = await channel.publish(Part("Found", media=media), reply_to=None, key="k")

    stored = fake.state.posts[sent.remote_id].media
    assert [m.alt_text for m in stored] == ["A red bicycle", "Its broken lock"]
    assert [m.size for m in stored] == [300_000, 1000]


async def test_a_thread_names_its_root_and_parent(
    channel: BlueskyChannel, fake: FakeBluesky
) -> None:
    first = await channel.publish(Part("1/3"), reply_to=None, key="a")
    second = await channel.publish(Part("2/3"), reply_to=first, key="b")
    third = await channel.publish(Part("3/3"), reply_to=second, key="c")

    assert fake.state.posts[second.remote_id].extra["root"] == first.remote_id
    assert fake.state.posts[third.remote_id].reply_to == second.remote_id
    assert fake.state.posts[third.remote_id].extra["root"] == first.remote_id


async def test_a_thread_resumed_by_another_process_finds_its_root(
    server: TestServer, session: aiohttp.ClientSession, fake: FakeBluesky
) -> None:
    before = BlueskyChannel(credentials(server), session=session, timeout=TIMEOUT)
    first = await before.publish(Part("1/3"), reply_to=None, key="a")
    second = await before.publish(Part("2/3"), reply_to=first, key="b")
    after = BlueskyChannel(credentials(server), session=session, timeout=TIMEOUT)

    third = await after.publish(Part("3/3"), reply_to=second, key="c")

    assert fake.state.posts[third.remote_id].extra["root"] == first.remote_id
    assert fake.state.requests["read"] == 1


async def test_delete_removes_the_post_and_deleting_it_again_is_fine(
    channel: BlueskyChannel, fake: FakeBluesky
) -> None:
    sent = await channel.publish(Part("Withdrawn soon"), reply_to=None, key="k")

    await channel.delete(sent.remote_id)
    await channel.delete(sent.remote_id)

    assert fake.state.posts[sent.remote_id].deleted


async def test_find_returns_the_post_with_its_cid(channel: BlueskyChannel) -> None:
    part = with_link("Appeal:")
    sent = await channel.publish(part, reply_to=None, key="k")
    await channel.publish(Part("Another"), reply_to=None, key="k2")

    assert await channel.find(part.text, reply_to=None) == sent
    assert await channel.find("Never posted", reply_to=None) is None


async def test_an_expired_token_is_refreshed_and_the_post_goes_once(
    channel: BlueskyChannel, fake: FakeBluesky
) -> None:
    await channel.publish(Part("Before"), reply_to=None, key="a")
    fake.expire_tokens()

    await channel.publish(Part("After"), reply_to=None, key="b")

    assert fake.state.texts() == ["Before", "After"]
    assert fake.state.requests["refresh"] == 1
    assert fake.state.requests["session"] == 1


async def test_a_spent_refresh_token_signs_in_again(
    channel: BlueskyChannel, fake: FakeBluesky
) -> None:
    await channel.check()
    fake.expire_tokens()
    fake.refresh.clear()

    await channel.publish(Part("After"), reply_to=None, key="b")

    assert fake.state.texts() == ["After"]
    assert fake.state.requests["session"] == 2


# ---- how it fails ----------------------------------------------------------------------------


async def test_a_wrong_app_password_is_auth_failed(
    server: TestServer, session: aiohttp.ClientSession
) -> None:
    channel = BlueskyChannel(credentials(server, "wrong"), session=session, timeout=TIMEOUT)

    error = await failure(channel.check())

    assert error.kind is FailureKind.AUTH_FAILED


async def test_text_over_300_graphemes_is_rejected(
    channel: BlueskyChannel, fake: FakeBluesky
) -> None:
    accented = "e\u0301"  # one grapheme, two code points
    fits = await channel.publish(Part(accented * 300), reply_to=None, key="a")

    error = await failure(channel.publish(Part("x" * 301), reply_to=None, key="b"))

    assert error.kind is FailureKind.REJECTED
    assert "300 graphemes" in error.detail
    assert [p.id for p in fake.state.live()] == [fits.remote_id]


async def test_rate_limited_carries_the_reset_time_bluesky_gives(
    channel: BlueskyChannel, fake: FakeBluesky
) -> None:
    await channel.check()
    fake.rate_limit(for_seconds=5, reset_in=90, on="create")
    expected = datetime.fromtimestamp(int(time.time() + 90), UTC)

    error = await failure(channel.publish(Part("Hello"), reply_to=None, key="k"))

    assert error.kind is FailureKind.RATE_LIMITED
    assert error.retry_at is not None
    assert abs((error.retry_at - expected).total_seconds()) <= 1


@pytest.mark.parametrize("status", [500, 502, 503])
async def test_a_server_error_is_unavailable(
    channel: BlueskyChannel, fake: FakeBluesky, status: int
) -> None:
    fake.fail_next(1, status=status, on="create")

    error = await failure(channel.publish(Part("Hello"), reply_to=None, key="k"))

    assert error.kind is FailureKind.UNAVAILABLE
    assert fake.state.live() == []


async def test_nobody_listening_is_unavailable(session: aiohttp.ClientSession) -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    channel = BlueskyChannel(
        {"base_url": f"http://127.0.0.1:{port}", "handle": HANDLE, "app_password": APP_PASSWORD},
        session=session,
        timeout=TIMEOUT,
    )

    error = await failure(channel.publish(Part("Hello"), reply_to=None, key="k"))

    assert error.kind is FailureKind.UNAVAILABLE


async def test_no_answer_in_time_after_storing_is_unknown_outcome(
    channel: BlueskyChannel, fake: FakeBluesky
) -> None:
    fake.slow(TIMEOUT + 0.3)

    error = await failure(channel.publish(Part("Slow one"), reply_to=None, key="k"))

    assert error.kind is FailureKind.UNKNOWN_OUTCOME
    assert fake.state.texts() == ["Slow one"]
    assert await channel.find("Slow one", reply_to=None) is not None


async def test_a_dropped_connection_after_storing_is_unknown_outcome(
    channel: BlueskyChannel, fake: FakeBluesky
) -> None:
    fake.drop_after_store()

    error = await failure(channel.publish(Part("Dropped"), reply_to=None, key="k"))

    assert error.kind is FailureKind.UNKNOWN_OUTCOME
    assert fake.state.texts() == ["Dropped"]


@pytest.mark.parametrize("on", ["session", "media"])
async def test_no_answer_before_the_post_is_sent_is_unavailable(
    channel: BlueskyChannel, fake: FakeBluesky, tmp_path: Path, on: str
) -> None:
    fake.slow(TIMEOUT + 0.3, on=on)
    part = Part("With picture", media=[Media(picture(tmp_path, 1000), "alt")])

    error = await failure(channel.publish(part, reply_to=None, key="k"))

    assert error.kind is FailureKind.UNAVAILABLE
    assert fake.state.live() == []


def test_pictures_over_bluesky_s_limit_are_made_to_fit():
    rng = random.Random(7)
    noise = Image.frombytes("RGB", (2048, 1536), rng.randbytes(2048 * 1536 * 3))
    buffer = io.BytesIO()
    noise.save(buffer, "JPEG", quality=95)
    big = buffer.getvalue()
    assert len(big) > BLOB_LIMIT
    small = fit_blob(big)
    assert len(small) <= BLOB_LIMIT
    with Image.open(io.BytesIO(small)) as shrunk:
        assert shrunk.format == "JPEG" and not shrunk.getexif()
    assert fit_blob(b"tiny") == b"tiny"  # small enough already: untouched


async def test_find_tells_a_later_thread_part_by_what_it_answers(channel: BlueskyChannel) -> None:
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
