"""The X adapter: real tweepy against a local server speaking X API v2."""

from __future__ import annotations

import asyncio
import json
import socket
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

import aiohttp
import pytest
from aiohttp.test_utils import TestServer

from beat.channels import ChannelError, FailureKind, Media, Part, Sent
from beat.social.x import X_API_URL, XChannel, XSession
from tests.fakes import FakeState
from tests.fakes.x import CREDENTIALS, DUPLICATE_DETAIL, USER, FakeX

TIMEOUT = 0.5  # long enough for a loaded CI machine, short enough to wait out
LINK = "https://beat.example/p/0f3c?area=E05009288&lang=en"


@pytest.fixture
def fake() -> FakeX:
    return FakeX()


@pytest.fixture
def channel(server: TestServer, session: aiohttp.ClientSession) -> XChannel:
    return XChannel(
        CREDENTIALS, session=session, base_url=str(server.make_url("")), timeout=TIMEOUT
    )


def picture(tmp_path: Path, size: int = 2_500_000, name: str = "photo.jpg") -> Path:
    path = tmp_path / name
    path.write_bytes(b"\xff\xd8\xff" + bytes(size - 3))
    return path


async def failure(call: object) -> ChannelError:
    with pytest.raises(ChannelError) as caught:
        await call  # type: ignore[misc]
    return caught.value


# ---- what works ------------------------------------------------------------------------------


async def test_check_names_the_account(channel: XChannel) -> None:
    assert await channel.check() == USER["username"]


async def test_publish_posts_the_text_through_the_configured_host(
    channel: XChannel, fake: FakeX
) -> None:
    sent = await channel.publish(Part(f"Road closed & diverted: {LINK}"), reply_to=None, key="k1")

    post = fake.state.posts[sent.remote_id]
    assert post.text == f"Road closed & diverted: {LINK}"
    assert post.reply_to is None
    assert sent.url == f"https://x.com/i/web/status/{sent.remote_id}"
    assert fake.state.requests["create"] == 1


async def test_publish_with_a_picture_uploads_it_in_chunks_with_its_alt_text(
    channel: XChannel, fake: FakeX, tmp_path: Path
) -> None:
    photo = picture(tmp_path)
    part = Part("Found this bike", media=[Media(photo, "A red bicycle against railings")])

    sent = await channel.publish(part, reply_to=None, key="k1")

    [media] = fake.state.posts[sent.remote_id].media
    assert media.alt_text == "A red bicycle against railings"
    assert media.size == photo.stat().st_size
    assert media.mime_type == "image/jpeg"
    # initialize, three 1 MiB appends, finalize, metadata
    assert fake.state.requests["media"] == 6


async def test_thread_parts_reply_to_the_part_before(channel: XChannel, fake: FakeX) -> None:
    first = await channel.publish(Part("1/3 Appeal"), reply_to=None, key="a")
    second = await channel.publish(Part("2/3 Details"), reply_to=first, key="b")
    third = await channel.publish(Part("3/3 Call 101"), reply_to=second, key="c")

    assert fake.state.posts[second.remote_id].reply_to == first.remote_id
    assert fake.state.posts[third.remote_id].reply_to == second.remote_id


async def test_delete_removes_the_post_and_deleting_it_again_is_fine(
    channel: XChannel, fake: FakeX
) -> None:
    sent = await channel.publish(Part("Withdrawn soon"), reply_to=None, key="k")

    await channel.delete(sent.remote_id)
    await channel.delete(sent.remote_id)

    assert fake.state.posts[sent.remote_id].deleted
    assert fake.state.requests["delete"] == 2


async def test_find_sees_past_wrapped_links_escaping_and_the_picture_link(
    channel: XChannel, fake: FakeX, tmp_path: Path
) -> None:
    text = f"Stolen <e-scooter> & helmet\n\nDetails: {LINK}"
    media = [Media(picture(tmp_path, 1000), "An e-scooter")]
    sent = await channel.publish(Part(text, media=media), reply_to=None, key="k")
    await channel.publish(Part("Another post"), reply_to=None, key="k2")
    assert "t.co" in (await fake_timeline_text(fake))  # X really did rewrite it

    found = await channel.find(text, reply_to=None)

    assert found == Sent(remote_id=sent.remote_id, url=sent.url)
    assert await channel.find("Never posted", reply_to=None) is None


async def fake_timeline_text(fake: FakeX) -> str:
    return json.dumps([fake.rendered(p, {"entities"}) for p in fake.state.live()])


# ---- how it fails ----------------------------------------------------------------------------


async def test_wrong_credentials_are_auth_failed(
    server: TestServer, session: aiohttp.ClientSession, fake: FakeX
) -> None:
    wrong = {**CREDENTIALS, "access_token_secret": "not-the-secret"}
    channel = XChannel(wrong, session=session, base_url=str(server.make_url("")), timeout=TIMEOUT)

    error = await failure(channel.check())

    assert error.kind is FailureKind.AUTH_FAILED
    assert fake.state.requests["me"] == 1


async def test_rate_limited_carries_the_reset_time_x_gives(channel: XChannel, fake: FakeX) -> None:
    fake.rate_limit(for_seconds=5, reset_in=120)
    expected = datetime.fromtimestamp(int(time.time() + 120), UTC)

    error = await failure(channel.publish(Part("Hello"), reply_to=None, key="k"))

    assert error.kind is FailureKind.RATE_LIMITED
    assert error.retry_at is not None
    assert abs((error.retry_at - expected).total_seconds()) <= 1
    assert fake.state.live() == []


async def test_going_over_xs_own_budget_is_rate_limited_until_the_window_ends(
    aiohttp_server, session: aiohttp.ClientSession
) -> None:
    fake = FakeX(limits={"create": (2, 900.0)})
    server = await aiohttp_server(fake.app)
    channel = XChannel(
        CREDENTIALS, session=session, base_url=str(server.make_url("")), timeout=TIMEOUT
    )
    await channel.publish(Part("one"), reply_to=None, key="1")
    await channel.publish(Part("two"), reply_to=None, key="2")

    error = await failure(channel.publish(Part("three"), reply_to=None, key="3"))

    assert error.kind is FailureKind.RATE_LIMITED
    assert error.retry_at is not None
    assert 890 <= (error.retry_at - datetime.now(UTC)).total_seconds() <= 901
    assert fake.state.texts() == ["one", "two"]


async def test_the_same_text_twice_is_duplicate(channel: XChannel, fake: FakeX) -> None:
    await channel.publish(Part("Same words"), reply_to=None, key="k")

    error = await failure(channel.publish(Part("Same words"), reply_to=None, key="k"))

    assert error.kind is FailureKind.DUPLICATE
    assert DUPLICATE_DETAIL in error.detail
    assert len(fake.state.live()) == 1


@pytest.mark.parametrize(
    ("text", "inject"),
    [
        pytest.param("x" * 281, False, id="too-long"),
        pytest.param("Fine text", True, id="refused"),
    ],
)
async def test_content_x_refuses_is_rejected(
    channel: XChannel, fake: FakeX, text: str, inject: bool
) -> None:
    if inject:
        fake.reject_next(detail="You are not permitted to perform this action.")

    error = await failure(channel.publish(Part(text), reply_to=None, key="k"))

    assert error.kind is FailureKind.REJECTED
    assert fake.state.live() == []


async def test_replying_to_a_deleted_post_is_rejected(channel: XChannel) -> None:
    parent = await channel.publish(Part("Parent"), reply_to=None, key="p")
    await channel.delete(parent.remote_id)

    error = await failure(channel.publish(Part("Child"), reply_to=parent, key="c"))

    assert error.kind is FailureKind.REJECTED


@pytest.mark.parametrize("status", [500, 502, 503])
async def test_a_server_error_is_unavailable(channel: XChannel, fake: FakeX, status: int) -> None:
    fake.fail_next(1, status=status)

    error = await failure(channel.publish(Part("Hello"), reply_to=None, key="k"))

    assert error.kind is FailureKind.UNAVAILABLE
    assert fake.state.live() == []


async def test_a_gateway_timeout_on_a_post_is_unknown_outcome(
    channel: XChannel, fake: FakeX
) -> None:
    fake.fail_next(1, status=504, on="create")

    error = await failure(channel.publish(Part("Hello"), reply_to=None, key="k"))

    assert error.kind is FailureKind.UNKNOWN_OUTCOME


async def test_an_outage_window_passes(channel: XChannel, fake: FakeX) -> None:
    fake.window(0.2, status=503)
    error = await failure(channel.publish(Part("Hello"), reply_to=None, key="k"))
    assert error.kind is FailureKind.UNAVAILABLE

    await asyncio.sleep(0.25)
    await channel.publish(Part("Hello"), reply_to=None, key="k")

    assert fake.state.texts() == ["Hello"]


async def test_nobody_listening_is_unavailable(session: aiohttp.ClientSession) -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    channel = XChannel(
        CREDENTIALS, session=session, base_url=f"http://127.0.0.1:{port}", timeout=TIMEOUT
    )

    error = await failure(channel.publish(Part("Hello"), reply_to=None, key="k"))

    assert error.kind is FailureKind.UNAVAILABLE


async def test_no_answer_in_time_after_storing_is_unknown_outcome(
    channel: XChannel, fake: FakeX
) -> None:
    fake.slow(TIMEOUT + 0.3)

    error = await failure(channel.publish(Part("Slow one"), reply_to=None, key="k"))

    assert error.kind is FailureKind.UNKNOWN_OUTCOME
    assert fake.state.texts() == ["Slow one"]  # it went out: find() will say so
    assert await channel.find("Slow one", reply_to=None) is not None


async def test_a_dropped_connection_after_storing_is_unknown_outcome(
    channel: XChannel, fake: FakeX
) -> None:
    fake.drop_after_store()

    error = await failure(channel.publish(Part("Dropped"), reply_to=None, key="k"))

    assert error.kind is FailureKind.UNKNOWN_OUTCOME
    assert fake.state.texts() == ["Dropped"]


async def test_a_slow_picture_upload_is_unavailable_as_nothing_was_posted(
    channel: XChannel, fake: FakeX, tmp_path: Path
) -> None:
    fake.slow(TIMEOUT + 0.3, on="media")
    part = Part("With picture", media=[Media(picture(tmp_path, 1000), "alt")])

    error = await failure(channel.publish(part, reply_to=None, key="k"))

    assert error.kind is FailureKind.UNAVAILABLE
    assert fake.state.live() == []


async def test_a_rate_limited_picture_upload_carries_the_reset_time(
    channel: XChannel, fake: FakeX, tmp_path: Path
) -> None:
    fake.rate_limit(for_seconds=5, reset_in=60, on="media")
    part = Part("With picture", media=[Media(picture(tmp_path, 1000), "alt")])

    error = await failure(channel.publish(part, reply_to=None, key="k"))

    assert error.kind is FailureKind.RATE_LIMITED
    assert error.retry_at is not None


# ---- the plumbing ----------------------------------------------------------------------------


def test_pointing_at_x_itself_adds_no_middleware(session: aiohttp.ClientSession) -> None:
    real = XSession(session, X_API_URL, aiohttp.ClientTimeout(total=1))
    local = XSession(session, "http://127.0.0.1:9", aiohttp.ClientTimeout(total=1))

    assert real.middlewares is None
    assert local.middlewares is not None


async def test_every_answer_carries_rate_limit_headers(
    server: TestServer, session: aiohttp.ClientSession
) -> None:
    async with session.get(server.make_url("/2/users/me")) as response:
        assert response.status == 401
        assert {"x-rate-limit-limit", "x-rate-limit-remaining", "x-rate-limit-reset"} <= {
            h.lower() for h in response.headers
        }
        body = await response.json(content_type=None)
    assert body["status"] == 401


async def test_the_fake_runs_as_its_own_process_with_its_state_in_a_file(
    tmp_path: Path, session: aiohttp.ClientSession
) -> None:
    state_file = tmp_path / "x.json"
    process = subprocess.Popen(
        [sys.executable, "-m", "tests.fakes", "x", "--state-file", str(state_file)],
        stdout=subprocess.PIPE,
        text=True,
        cwd=Path(__file__).resolve().parents[2],
    )
    try:
        assert process.stdout is not None
        line = await asyncio.wait_for(asyncio.to_thread(process.stdout.readline), 10)
        base_url = line.strip().removeprefix("listening on ")
        channel = XChannel(CREDENTIALS, session=session, base_url=base_url, timeout=2)
        async with session.post(
            f"{base_url}/_fake/faults", json={"op": "fail_next", "args": {"n": 1}}
        ) as response:
            assert response.status == 200

        error = await failure(channel.publish(Part("Across processes"), reply_to=None, key="k"))
        sent = await channel.publish(Part("Across processes"), reply_to=None, key="k")

        assert error.kind is FailureKind.UNAVAILABLE
        state = FakeState.load(state_file)
        assert state.posts[sent.remote_id].text == "Across processes"
        assert state.requests["create"] == 2
    finally:
        process.terminate()
        process.wait(timeout=10)
        if process.stdout is not None:
            process.stdout.close()


async def test_find_tells_a_later_thread_part_by_what_it_answers(channel: XChannel) -> None:
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
