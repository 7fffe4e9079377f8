"""The SIGKILL proof: a delivering process killed at random moments never doubles or loses a post.

Run: .venv/bin/python bench/kill_delivery.py [--posts 200] [--kills 50] [--postgres] [--seed N]

Sets up a data dir (SQLite; --postgres uses a throwaway PostgreSQL, or a fresh database on
BEAT_TEST_DATABASE_URL's server), the demo force, two X district accounts (Aldersgate and
Bishopsgate: X allows one account 200 posts per 15 minutes, so 200 posts need two) pointing at a
local fake X process. Then `beat worker` is started, killed with SIGKILL 0.05-0.5 s after it
answers /healthz, and restarted, `--kills` times. Before each start a share of the posts is
approved (all before the first with --upfront), half per area, every tenth one long enough to go
out as a thread, so kills keep landing while posts are delivered. Before most starts the fake X
is told to answer the next few posts slowly (it stores the post, then waits), so kills land
between X storing a post and the worker hearing back. Finally the worker runs until nothing is
pending or sending (at most --drain seconds), and the script compares what X holds with what the
database says: each sent delivery's parts must be on X under the ids it recorded, with its text,
each replying to the part before.

Exit status 1 if any post is on X twice, or is neither on X nor marked unknown for comms.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import platform
import random
import signal
import sys
import tempfile
import time
import uuid
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))  # the fake X and the process helpers live under tests/

from beat import accounts, db, passwords, posts  # noqa: E402
from beat.areas import AreaLocator  # noqa: E402
from beat.clock import utcnow  # noqa: E402
from beat.models import Delivery, DeliveryAttempt, Role, User  # noqa: E402
from beat.settings import Settings  # noqa: E402
from tests.e2e.cluster import (  # noqa: E402
    ALDERSGATE,
    BISHOPSGATE,
    DEMO_FORCE,
    Processes,
    add_x_account,
    beat,
    beat_env,
    fake_fault,
    fake_state,
    live_texts,
    postgres,
    start_beat,
    start_fake_x,
)

SHORT = "Patrol note {n}: bike thefts are down on our streets this week. Lock your bike to a stand."
# Every sentence names its note: X refuses a post whose text it already holds, so two threads
# sharing a later part would collide (see the report on thread parts found by text alone).
LONG = (
    "Patrol note {n}, the longer version. Thank you to everyone who came to beat surgery {n} at "
    "the library on Tuesday evening. At surgery {n} we heard about cycle thefts near the station, "
    "about noise from late deliveries, and about speeding on the main road after dark. Plan {n}: "
    "this week we will patrol the station approach at the busy times and speak to the businesses "
    "about deliveries. Plan {n} also means speed checks with the community volunteers. Advice "
    "{n}: lock your bike to a stand, register it free, and tell us what you see. Every report "
    "{n} helps us decide where to patrol next."
)
SECOND_OFFICER = "bishopsgate.officer@example.police.uk"
PASSWORD = "correct horse battery staple"  # noqa: S105 - an account in a throwaway database
IN_FLIGHT = ("pending", "sending")


async def make_posts(settings: Settings, first_n: int, count: int) -> int:
    """`count` clean posts numbered from `first_n`, published at once and so enqueued,
    alternating the two areas."""
    passwords.use_parameters(time_cost=1, memory_cost=8, parallelism=1)
    async with db.db_session(settings):
        first = await User.get(email="officer@demo.beat")
        second = await User.get_or_none(email=SECOND_OFFICER) or await accounts.create_user(
            None, email=SECOND_OFFICER, role=Role.OFFICER, password=PASSWORD,
            force_id=DEMO_FORCE, team_code=BISHOPSGATE, display_name="PC Bishopsgate",
        )  # fmt: skip
        locator = AreaLocator()
        published = 0
        for n in range(first_n, first_n + count):
            officer, area = (first, ALDERSGATE) if n % 2 else (second, BISHOPSGATE)
            text = (LONG if n % 10 == 0 else SHORT).format(n=n)
            view, _ = await posts.create_post(
                officer, posts.PostInput(text=text, neighbourhoods=[area]),
                idempotency_key=uuid.uuid4(), now=utcnow(), locator=locator,
            )  # fmt: skip
            published += view.post.status == "published"
    return published


async def in_flight(settings: Settings) -> int:
    async with db.db_session(settings):
        return await Delivery.filter(status__in=list(IN_FLIGHT)).count()


async def outbox_rows(settings: Settings) -> tuple[list[dict[str, Any]], Counter[str]]:
    async with db.db_session(settings):
        deliveries = await Delivery.filter(action="publish").values(
            "id", "post_id", "status", "parts", "next_part", "last_error"
        )
        outcomes = Counter(await DeliveryAttempt.all().values_list("outcome", flat=True))
    return deliveries, outcomes  # type: ignore[return-value]


@contextlib.contextmanager
def database(use_postgres: bool) -> Iterator[str]:
    if use_postgres:
        with postgres() as url:
            yield url
    else:
        yield ""


def worker_env(env: dict[str, str]) -> dict[str, str]:
    # A short lease so a killed worker's deliveries come back in seconds, not two minutes.
    return {**env, "BEAT_DELIVERY_LEASE_SECONDS": "2", "BEAT_DELIVERY_BACKOFF_BASE": "0.5"}


def run(args: argparse.Namespace, tmp: Path, database_url: str) -> int:
    rng = random.Random(args.seed)
    data = tmp / "data"
    logs = tmp / "logs"
    logs.mkdir()
    settings = Settings(data_dir=data, database_url=database_url)
    with Processes(logs) as procs:
        # Two district accounts on one fake X user: give it two users' worth of posts.
        _, x_url = start_fake_x(
            procs, tmp / "x-state.json", limits=("create=1000/900", "me=1000/900")
        )
        env = worker_env(beat_env(data, database_url, BEAT_X_API_URL=x_url))
        setup_started = time.monotonic()
        beat(["migrate"], env)
        beat(["demo", "--no-serve"], env)
        add_x_account(env, "City of London X (Aldersgate)", ALDERSGATE)
        add_x_account(env, "City of London X (Bishopsgate)", BISHOPSGATE)
        # Queued in step with the kills (or all now, with --upfront), so that every kill lands
        # while posts are being delivered rather than on an idle worker.
        share, extra = divmod(args.posts, args.kills)
        batches = [share + (i < extra) for i in range(args.kills)]
        if args.upfront:
            batches = [args.posts] + [0] * (args.kills - 1)
        approved = queued = 0
        kind = "PostgreSQL" if database_url else "SQLite"
        took = time.monotonic() - setup_started
        print(f"setup: {kind}, demo force, two X accounts on the fake X, in {took:.1f}s")

        kills_started = time.monotonic()
        slowed = 0
        for k in range(1, args.kills + 1):
            approved += asyncio.run(make_posts(settings, queued + 1, batches[k - 1]))
            queued += batches[k - 1]
            if rng.random() < 0.7:
                fake_fault(
                    x_url, "slow", seconds=round(rng.uniform(0.2, 1.0), 2), n=rng.randint(1, 4)
                )
                slowed += 1
            worker, _ = start_beat(procs, "worker", "worker", env)
            time.sleep(rng.uniform(0.05, 0.5))
            worker.popen.send_signal(signal.SIGKILL)
            worker.popen.wait(timeout=10)
            worker.close_files()
            if k % 10 == 0:
                held = len(live_texts(fake_state(x_url)))
                print(f"  {k:>3} kills: {approved} posts approved, {held} posts on X")
        kill_seconds = time.monotonic() - kills_started
        fake_fault(x_url, "clear_faults")

        drain_started = time.monotonic()
        worker, _ = start_beat(procs, "worker", "worker", env)
        left = asyncio.run(in_flight(settings))
        while left and time.monotonic() - drain_started < args.drain:
            time.sleep(0.25)
            left = asyncio.run(in_flight(settings))
        worker.stop()
        drain_seconds = time.monotonic() - drain_started
        print(
            f"{args.kills} SIGKILLs in {kill_seconds:.1f}s ({slowed} with X slowed); then ran to "
            f"completion in {drain_seconds:.1f}s ({left} deliveries still pending or sending)"
        )
        state = fake_state(x_url)
    deliveries, outcomes = asyncio.run(outbox_rows(settings))
    return report(approved, deliveries, outcomes, state)


def verify(delivery: dict[str, Any], posts_on_x: dict[str, dict[str, Any]]) -> str:
    """Why a delivery's record does not match X ("" if it does): every part where it says,
    live, with its text, replying to the part before."""
    previous = None
    for i, part in enumerate(delivery["parts"]):
        held = posts_on_x.get(str(part["remote_id"]))
        if held is None or held["deleted"]:
            return f"part {i} is not on X"
        if held["text"] != part["text"]:
            return f"part {i}'s remote post has other text"
        if held["reply_to"] != previous:
            return f"part {i} does not reply to part {i - 1}"
        previous = held["id"]
    return "" if delivery["parts"] else "nothing rendered"


def report(
    approved: int,
    deliveries: list[dict[str, Any]],
    outcomes: Counter[str],
    state: dict[str, Any],
) -> int:
    posts_on_x: dict[str, dict[str, Any]] = state["posts"]
    held = Counter(live_texts(state))
    statuses = Counter(d["status"] for d in deliveries)
    claims = Counter(
        str(part["remote_id"]) for d in deliveries for part in d["parts"] if part["remote_id"]
    )
    unknown_texts = {
        str(part["text"]) for d in deliveries if d["status"] == "unknown" for part in d["parts"]
    }
    on_x = unknown = missing = 0
    for delivery in deliveries:
        if delivery["status"] == "unknown":
            unknown += 1
            continue
        problem = "not sent" if delivery["status"] != "sent" else verify(delivery, posts_on_x)
        if problem:
            missing += 1
            print(f"  MISSING: delivery {delivery['id']} ({delivery['status']}): {problem}; "
                  f"last error {delivery['last_error']!r}")  # fmt: skip
        else:
            on_x += 1
    doubled = sum(1 for n in held.values() if n > 1)
    shared = sum(1 for n in claims.values() if n > 1)
    unclaimed = [p for p in posts_on_x.values() if not p["deleted"] and p["id"] not in claims]
    unknown_on_x = sum(1 for p in unclaimed if p["text"] in unknown_texts)
    strays = len(unclaimed) - unknown_on_x
    other = sum(n for s, n in statuses.items() if s not in ("sent", "unknown"))
    print()
    print(f"posts approved:                    {approved}")
    print(f"X posts held (live):               {sum(held.values())} "
          f"(threads are several posts)")  # fmt: skip
    print(f"duplicates on X:                   {doubled}")
    print(f"X posts two deliveries both claim: {shared}")
    print(f"X posts Beat did not record:       {strays + unknown_on_x} "
          f"({unknown_on_x} are parts of deliveries marked unknown)")  # fmt: skip
    sent, marked = statuses["sent"], statuses["unknown"]
    print(f"deliveries sent / unknown / other: {sent} / {marked} / {other}")
    print(f"create requests X answered:        {state['requests'].get('create', 0)}")
    print(f"attempt outcomes:                  {dict(sorted(outcomes.items()))}")
    print("  (crashed: killed mid-send; the next worker looked on X instead of resending)")
    print(f"none silently missing:             {on_x} on X exactly once (ids, text and thread "
          f"order checked) + {unknown} unknown for comms = {on_x + unknown} of {approved}; "
          f"{missing} missing")  # fmt: skip
    ok = doubled == shared == 0 and missing == 0 and strays == 0 and on_x + unknown == approved
    print("OK: none doubled, none silently missing" if ok else "FAILED")
    return 0 if ok else 1


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--posts", type=int, default=200)
    parser.add_argument("--kills", type=int, default=50)
    parser.add_argument("--drain", type=float, default=120.0, help="seconds to run to completion")
    parser.add_argument("--seed", type=int, default=None)
    parser.add_argument("--upfront", action="store_true", help="queue every post before any kill")
    parser.add_argument("--postgres", action="store_true", help="PostgreSQL instead of SQLite")
    parser.add_argument("--keep", type=Path, help="work in this new dir and keep it (logs, data)")
    args = parser.parse_args()
    if args.kills < 1 or args.posts < 1:
        parser.error("--kills and --posts must be at least 1")
    if args.seed is None:
        args.seed = random.SystemRandom().randrange(1_000_000)
    print(
        f"Python {platform.python_version()}, {os.cpu_count()} CPUs, seed {args.seed}, "
        f"{args.posts} posts, {args.kills} kills"
    )
    with contextlib.ExitStack() as stack:
        if args.keep:
            args.keep.mkdir(parents=True)
            tmp = args.keep.resolve()
        else:
            tmp = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="beat-kill-")))
        url = stack.enter_context(database(args.postgres))
        return run(args, tmp, url)


if __name__ == "__main__":
    sys.exit(main())
