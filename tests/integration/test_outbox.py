"""The outbox on a real database, against an in-memory stand-in for a social platform.

(The adapters themselves are tested against local servers speaking each platform's wire
format in tests/social/; here the platform is a small object so each failure is exact.)
"""

from __future__ import annotations

import asyncio
import uuid
from datetime import timedelta

import pytest

from beat import channel_accounts, outbox, posts
from beat.areas import AreaLocator
from beat.channels import ChannelError, ChannelKind, FailureKind, Part, Sent
from beat.credentials import CredentialBox
from beat.models import ChannelAccount, Delivery, DeliveryAttempt, Notification, Post, Role
from tests.helpers import ALDERSGATE, DEMO_FORCE, create_areas, create_user

X_CREDS = {
    "consumer_key": "consumer-key-CK123", "consumer_secret": "consumer-secret-CS456",
    "access_token": "access-token-AT789", "access_token_secret": "token-secret-AS012",
}  # fmt: skip


class Platform:
    """An account on a platform: what it holds, and the failures queued for the next calls."""

    kind = ChannelKind.X

    def __init__(self) -> None:
        self.posts: dict[str, dict[str, object]] = {}
        self.failures: list[ChannelError | tuple[str, ChannelError]] = []
        self.calls = 0

    async def check(self) -> str:
        return "@cityoflondonpolice"

    async def publish(self, part: Part, *, reply_to: Sent | None, key: str) -> Sent:
        self.calls += 1
        if self.failures:
            failure = self.failures.pop(0)
            if isinstance(failure, tuple):  # stored, then the answer was lost
                self._store(part, reply_to)
                raise failure[1]
            raise failure
        return self._store(part, reply_to)

    def _store(self, part: Part, reply_to: Sent | None) -> Sent:
        remote = str(len(self.posts) + 1000)
        self.posts[remote] = {
            "text": part.text,
            "reply_to": reply_to.remote_id if reply_to else None,
            "deleted": False,
        }
        return Sent(remote, f"https://x.example/status/{remote}")

    async def delete(self, remote_id: str) -> None:
        self.posts[remote_id]["deleted"] = True

    async def find(self, text: str, *, reply_to: Sent | None) -> Sent | None:
        parent = reply_to.remote_id if reply_to else None
        for remote, post in self.posts.items():
            if post["text"] == text and post["reply_to"] == parent and not post["deleted"]:
                return Sent(remote)
        return None

    def live(self) -> list[str]:
        return [str(p["text"]) for p in self.posts.values() if not p["deleted"]]


async def render(account: ChannelAccount, post: Post) -> list[Part]:
    return [Part(chunk.strip()) for chunk in post.text.split("||")]


@pytest.fixture
async def world(db, demo_areas, settings, clock):
    await create_areas(demo_areas)
    officer = await create_user("pc@city.police.uk", Role.OFFICER)
    comms = await create_user("comms@city.police.uk", Role.COMMS)
    box = CredentialBox(settings.channel_keys_file)
    account = await channel_accounts.add_account(
        None, DEMO_FORCE, kind="x", name="City Police X", neighbourhoods=[ALDERSGATE],
        force_wide=False, raw_credentials=X_CREDS, box=box, now=clock(),
    )  # fmt: skip
    return {"officer": officer, "comms": comms, "account": account.account, "box": box}


async def publish_post(world, clock, text="Patrolling Aldersgate Street tonight.") -> Post:
    view, _ = await posts.create_post(
        world["officer"], posts.PostInput(text=text, neighbourhoods=[ALDERSGATE]),
        idempotency_key=uuid.uuid4(), now=clock(), locator=AreaLocator(),
    )  # fmt: skip
    return view.post


async def work(platform: Platform, clock, worker: str = "w1") -> list[str]:
    outcomes = []
    for delivery in await outbox.claim(worker, clock(), lease=timedelta(minutes=2)):
        result = await outbox.deliver(
            delivery, channel=platform, render=render, worker=worker, clock=clock, max_attempts=4
        )
        outcomes.append(result.status)
    return outcomes


async def test_credentials_are_encrypted_at_rest(world):
    stored = await ChannelAccount.get(id=world["account"].id)
    for secret in X_CREDS.values():
        assert secret not in stored.credentials
    assert world["box"].open(stored.credentials) == X_CREDS


async def test_an_approved_post_is_delivered_exactly_once(world, clock):
    post = await publish_post(world, clock)
    platform = Platform()
    assert await work(platform, clock) == ["sent"]
    assert await work(platform, clock) == []
    assert platform.live() == ["Patrolling Aldersgate Street tonight."]
    delivery = await Delivery.get(post_id=post.id)
    assert (delivery.status, delivery.remote_id) == ("sent", "1000")


async def test_two_workers_never_claim_the_same_delivery(world, clock):
    for i in range(6):
        await publish_post(world, clock, f"Update {i} from Aldersgate.")
    first, second = await asyncio.gather(
        outbox.claim("w1", clock(), lease=timedelta(minutes=2)),
        outbox.claim("w2", clock(), lease=timedelta(minutes=2)),
    )
    ids = [d.id for d in first] + [d.id for d in second]
    assert len(ids) == len(set(ids)) == 6


async def test_rate_limits_wait_for_the_reset_and_outages_back_off(world, clock):
    await publish_post(world, clock)
    platform = Platform()
    platform.failures = [
        ChannelError(FailureKind.RATE_LIMITED, "429", retry_at=clock() + timedelta(minutes=15))
    ]
    assert await work(platform, clock) == ["pending"]
    clock.advance(minutes=10)
    assert await work(platform, clock) == []  # not before the reset
    clock.advance(minutes=6)
    platform.failures = [ChannelError(FailureKind.UNAVAILABLE, "503")]
    assert await work(platform, clock) == ["pending"]
    clock.advance(minutes=1)
    assert await work(platform, clock) == ["sent"]
    assert len(platform.live()) == 1


async def test_a_delivery_dies_after_too_many_tries_and_waits_for_comms(world, clock):
    post = await publish_post(world, clock)
    platform = Platform()
    for _ in range(4):
        platform.failures = [ChannelError(FailureKind.UNAVAILABLE, "503")]
        await work(platform, clock)
        clock.advance(hours=1)
    delivery = await Delivery.get(post_id=post.id)
    assert delivery.status == "dead"
    assert [d.id for d in await outbox.needing_comms(world["comms"])] == [delivery.id]
    await outbox.resolve(world["comms"], delivery.id, action="retry", now=clock())
    assert await work(platform, clock) == ["sent"]


async def test_a_timeout_after_sending_is_resolved_by_looking(world, clock):
    await publish_post(world, clock)
    platform = Platform()
    platform.failures = [("stored", ChannelError(FailureKind.UNKNOWN_OUTCOME, "timed out"))]
    assert await work(platform, clock) == ["pending"]  # found it: carries on
    assert await work(platform, clock) == ["sent"]
    assert platform.calls == 1 and len(platform.live()) == 1


async def test_an_unknown_outcome_not_on_the_platform_goes_to_comms_not_out_again(world, clock):
    post = await publish_post(world, clock)
    platform = Platform()
    platform.failures = [ChannelError(FailureKind.UNKNOWN_OUTCOME, "connection reset")]
    assert await work(platform, clock) == ["unknown"]
    clock.advance(hours=1)
    assert await work(platform, clock) == []
    assert platform.calls == 1
    delivery = await Delivery.get(post_id=post.id)
    await outbox.resolve(
        world["comms"], delivery.id, action="mark-sent", remote_id="999", now=clock()
    )
    assert (await Delivery.get(id=delivery.id)).status == "sent"


async def test_a_duplicate_answer_is_checked_against_what_was_posted(world, clock):
    await publish_post(world, clock)
    platform = Platform()
    platform.failures = [("stored", ChannelError(FailureKind.DUPLICATE, "duplicate content"))]
    assert await work(platform, clock) == ["pending"]
    assert await work(platform, clock) == ["sent"]
    assert len(platform.live()) == 1


async def test_a_worker_killed_mid_send_is_not_followed_by_a_second_copy(world, clock):
    post = await publish_post(world, clock)
    platform = Platform()
    # The first worker claims, records its attempt, sends... and dies before the answer.
    [delivery] = await outbox.claim("doomed", clock(), lease=timedelta(minutes=2))
    await DeliveryAttempt.create(
        delivery_id=delivery.id, account_id=delivery.account_id, part=0, worker="doomed",
        started_at=clock(), outcome="started",
    )  # fmt: skip
    platform._store(Part(post.text), None)
    await Delivery.filter(id=delivery.id).update(
        parts=[{"text": post.text, "media": [], "links": [], "remote_id": "", "url": "", "cid": ""}]
    )
    clock.advance(minutes=3)  # its lease runs out
    assert await work(platform, clock) == ["sent"]
    assert platform.calls == 0 and len(platform.live()) == 1


async def test_a_thread_resumes_where_it_failed(world, clock):
    await publish_post(world, clock, "Part one of our update. || Part two. || Part three.")
    platform = Platform()
    platform.failures = []
    original = platform.publish
    count = {"n": 0}

    async def flaky(part, *, reply_to, key):
        count["n"] += 1
        if count["n"] == 2:
            raise ChannelError(FailureKind.UNAVAILABLE, "503")
        return await original(part, reply_to=reply_to, key=key)

    platform.publish = flaky  # type: ignore[method-assign]
    assert await work(platform, clock) == ["pending"]
    clock.advance(minutes=2)
    assert await work(platform, clock) == ["sent"]
    texts = [p["text"] for p in platform.posts.values()]
    assert texts == ["Part one of our update.", "Part two.", "Part three."]
    replies = [p["reply_to"] for p in platform.posts.values()]
    assert replies == [None, "1000", "1001"]


async def test_withdrawing_a_delivered_post_removes_it_last_reply_first(world, clock):
    post = await publish_post(world, clock, "One. || Two.")
    platform = Platform()
    await work(platform, clock)
    await posts.withdraw(world["comms"], post.id, reason="Legal advice", now=clock())
    assert await work(platform, clock) == ["sent"]  # the removal
    assert platform.live() == []
    attempts = (
        await DeliveryAttempt.filter(outcome="deleted")
        .order_by("id")
        .values_list("remote_id", flat=True)
    )
    assert list(attempts) == ["1001", "1000"]


async def test_withdrawing_before_delivery_cancels_it(world, clock):
    await create_user("comms2@city.police.uk", Role.COMMS)
    post = await publish_post(world, clock, "Call 07700 900123 about the van.")  # waits on the desk
    assert await Delivery.filter(post_id=post.id).count() == 0
    from beat import moderation

    await moderation.approve(
        world["comms"], post.id, now=clock(), publish_at=clock() + timedelta(hours=1)
    )
    await posts.withdraw(world["comms"], post.id, reason="Changed our minds", now=clock())
    clock.advance(hours=2)
    assert await work(Platform(), clock) == []
    assert (await Delivery.get(post_id=post.id)).status == "cancelled"


async def test_the_posting_budget_defers_instead_of_breaking_the_limit(world, clock):
    account = world["account"]
    for i in range(190):
        await DeliveryAttempt.create(
            delivery_id=(await Delivery.create(
                post_id=(await publish_post(world, clock, f"Old {i}")).id if i == 0 else (await Post.first()).id,
                account_id=account.id, action="publish", post_version=100 + i, status="sent",
                due_at=clock(), created_at=clock(),
            )).id,
            account_id=account.id, part=0, worker="w", started_at=clock() - timedelta(minutes=5), outcome="sent",
        )  # fmt: skip
    await Delivery.filter(status="pending").update(status="cancelled")
    post = await publish_post(world, clock, "Over budget?")
    assert await work(Platform(), clock) == ["pending"]
    delivery = await Delivery.get(post_id=post.id, post_version=1)
    assert delivery.due_at >= clock() + timedelta(minutes=9)


async def test_failing_credentials_hold_deliveries_and_tell_comms(world, clock):
    await publish_post(world, clock)
    platform = Platform()
    platform.failures = [ChannelError(FailureKind.AUTH_FAILED, "401 Unauthorized")]
    assert await work(platform, clock) == ["pending"]
    account = await ChannelAccount.get(id=world["account"].id)
    assert account.healthy is False
    assert (
        await Notification.filter(user_id=world["comms"].id, kind="channel-unhealthy").count() == 1
    )
    assert await work(platform, clock) == []  # held while the account is unhealthy
    await channel_accounts.record_check(account, ok=True, handle="@city", error="", now=clock())
    assert await work(platform, clock) == ["sent"]


async def test_a_refused_later_part_is_not_mistaken_for_another_posts_identical_part(world, clock):
    """X refuses a part as a duplicate because another thread holds the same text: looking
    must not take that other thread's part for this one's."""
    await publish_post(world, clock, "Burglary on Aldersgate Street. || Call 101 with information.")
    platform = Platform()
    assert await work(platform, clock) == ["sent"]
    second = await publish_post(
        world, clock, "Van broken into on Long Lane. || Call 101 with information."
    )
    original = platform.publish

    async def refuses_repeats(part, *, reply_to, key):
        if part.text in platform.live():
            platform.calls += 1
            raise ChannelError(
                FailureKind.DUPLICATE,
                "You are not allowed to create a Tweet with duplicate content.",
            )
        return await original(part, reply_to=reply_to, key=key)

    platform.publish = refuses_repeats  # type: ignore[method-assign]
    assert await work(platform, clock) == ["failed"]
    delivery = await Delivery.get(post_id=second.id)
    assert delivery.next_part == 1  # its first part went out; the second is not claimed as sent
    assert delivery.parts[1]["remote_id"] == ""
    assert [d.id for d in await outbox.needing_comms(world["comms"])] == [delivery.id]


async def test_after_a_crash_mid_thread_the_worker_finds_its_own_part_not_a_twin(world, clock):
    first = await publish_post(
        world, clock, "Burglary on Aldersgate Street. || Call 101 with information."
    )
    platform = Platform()
    assert await work(platform, clock) == ["sent"]
    second = await publish_post(
        world, clock, "Van broken into on Long Lane. || Call 101 with information."
    )
    original = platform.publish
    calls = {"n": 0}

    async def dies_after_sending_the_second_part(part, *, reply_to, key):
        calls["n"] += 1
        sent = await original(part, reply_to=reply_to, key=key)
        if calls["n"] == 2:
            raise asyncio.CancelledError  # the worker is killed with the reply on the wire
        return sent

    platform.publish = dies_after_sending_the_second_part  # type: ignore[method-assign]
    with pytest.raises(asyncio.CancelledError):
        await work(platform, clock, worker="doomed")
    platform.publish = original  # type: ignore[method-assign]
    clock.advance(minutes=3)  # the dead worker's lease runs out
    assert await work(platform, clock) == ["sent"]

    ours = await Delivery.get(post_id=second.id)
    theirs = await Delivery.get(post_id=first.id)
    assert ours.parts[1]["remote_id"] != theirs.parts[1]["remote_id"]
    assert platform.posts[ours.parts[1]["remote_id"]]["reply_to"] == ours.parts[0]["remote_id"]
    assert len(platform.live()) == 4  # nothing sent twice


async def test_taking_down_an_unknown_thread_removes_its_parts_and_never_a_twins(world, clock):
    """The takedown of a thread whose last send is unknown looks for its parts by what they
    answer: another post's identical part stays up."""
    other = await publish_post(
        world, clock, "Burglary on Aldersgate Street. || Call 101 with information."
    )
    platform = Platform()
    assert await work(platform, clock) == ["sent"]
    post = await publish_post(
        world, clock, "Van broken into on Long Lane. || Call 101 with information. || Thank you."
    )
    original = platform.publish

    async def loses_the_answer_to_the_second_part(part, *, reply_to, key):
        if (
            part.text == "Call 101 with information."
            and reply_to is not None
            and reply_to.remote_id == "1002"
        ):
            platform._store(part, reply_to)
            raise ChannelError(FailureKind.UNKNOWN_OUTCOME, "timed out after sending")
        return await original(part, reply_to=reply_to, key=key)

    platform.publish = loses_the_answer_to_the_second_part  # type: ignore[method-assign]
    looks = platform.find

    async def cannot_look_yet(text, *, reply_to):
        return None

    platform.find = cannot_look_yet  # type: ignore[method-assign]
    assert await work(platform, clock) == ["unknown"]
    platform.find = looks  # type: ignore[method-assign]

    await posts.withdraw(world["comms"], post.id, reason="Wrong street", now=clock())
    assert await work(platform, clock) == ["sent"]  # the removal

    theirs = await Delivery.get(post_id=other.id)
    assert sorted(platform.live()) == sorted(
        ["Burglary on Aldersgate Street.", "Call 101 with information."]
    )
    assert not platform.posts[theirs.parts[1]["remote_id"]]["deleted"]
