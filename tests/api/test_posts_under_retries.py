"""Many phones, flaky networks: every post is made exactly once, however often it is resent."""

from __future__ import annotations

import asyncio
import random
import uuid

from beat.models import AuditEntry, Post
from tests.helpers import ALDERSGATE, bearer, create_areas, create_user

PHONES, POSTS_PER_PHONE = 10, 10


async def test_retried_posts_from_many_phones_are_neither_lost_nor_doubled(client, db, demo_areas):
    await create_areas(demo_areas)
    rng = random.Random(20261125)
    phones = []
    for i in range(PHONES):
        email = f"pc{i}@city.police.uk"
        await create_user(email)
        phones.append(await bearer(client, email))

    async def phone(headers: dict[str, str], n: int) -> list[str]:
        made = []
        for j in range(POSTS_PER_PHONE):
            key = str(uuid.uuid4())
            body = {
                "text": f"Phone {n} update {j}: patrolling Aldersgate Street.",
                "neighbourhoods": [ALDERSGATE],
            }
            # The same send, repeated: some at once (a double tap), some after a lost answer.
            tries = rng.randint(1, 4)
            responses = await asyncio.gather(
                *(client.post("/v1/posts", json=body, headers={**headers, "Idempotency-Key": key})
                  for _ in range(tries))
            )  # fmt: skip
            statuses = sorted(r.status for r in responses)
            assert statuses == [200] * (tries - 1) + [201], statuses
            ids = {(await r.json())["id"] for r in responses}
            assert len(ids) == 1
            made.extend(ids)
        return made

    results = await asyncio.gather(*(phone(h, n) for n, h in enumerate(phones)))
    made = [post_id for batch in results for post_id in batch]
    assert len(made) == len(set(made)) == PHONES * POSTS_PER_PHONE
    assert await Post.all().count() == PHONES * POSTS_PER_PHONE
    assert await AuditEntry.filter(action="created").count() == PHONES * POSTS_PER_PHONE
