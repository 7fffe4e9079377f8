"""The area feed and the merged feed over real HTTP: order, cursors, ETags, caching, privacy."""

from __future__ import annotations

import json
import re
import uuid
import xml.etree.ElementTree as ET
from datetime import datetime, timedelta
from typing import Any

import feedparser
import pytest
from aiohttp.test_utils import TestClient

from beat import feed_versions, posts, teams
from beat.api.feed_routes import FEED_CACHE
from beat.app import create_app
from beat.models import AreaEvent, Follow, Neighbourhood, Post, Priority, Role, User
from tests.conftest import FakeClock
from tests.feed_helpers import (
    CLEAN_TEXTS,
    CrimeSpec,
    create_crime_month,
    create_event,
    create_priority,
    follow,
    publish_post,
)
from tests.helpers import ALDERSGATE, BISHOPSGATE, DEMO_FORCE, bearer, create_areas, create_user

OFFICER = "pc.khan@city.police.uk"
COMMS = "comms@city.police.uk"
RESIDENT = "resident@example.org"
FEED = f"/v1/areas/{DEMO_FORCE}/{ALDERSGATE}/feed"
# A position inside Aldersgate, with digits no other field of a feed would carry.
GPS = (51.5181237, -0.0972519)
OGL = "Contains public sector information licensed under the Open Government Licence v3.0."


@pytest.fixture
async def world(db, demo_areas) -> dict[str, User]:
    await create_areas(demo_areas)
    # Aldersgate's team covers Bishopsgate too, so one post can be about both.
    await teams.assign_neighbourhoods(None, DEMO_FORCE, ALDERSGATE, [ALDERSGATE, BISHOPSGATE])
    return {
        "officer": await create_user(OFFICER, Role.OFFICER),
        "comms": await create_user(COMMS, Role.COMMS),
        "resident": await create_user(RESIDENT, Role.RESIDENT),
    }


async def get_json(client: TestClient, path: str, **kwargs: Any) -> tuple[int, Any, Any]:
    response = await client.get(path, **kwargs)
    body = await response.json() if response.status != 304 else None
    return response.status, body, response.headers


async def all_pages(client: TestClient, path: str, limit: int) -> list[dict[str, Any]]:
    items, cursor = [], None
    while True:
        params = {"limit": str(limit), **({"cursor": cursor} if cursor else {})}
        status, body, _ = await get_json(client, path, params=params)
        assert status == 200, body
        items += body["items"]
        cursor = body["next_cursor"]
        if cursor is None:
            return items


async def test_feed_mixes_posts_crime_cards_priorities_and_upcoming_events_newest_first(
    client, world, clock: FakeClock
):
    start = clock.now
    await create_crime_month(
        "2017-08", [CrimeSpec("burglary", ALDERSGATE)], arrived_at=start - timedelta(days=40)
    )
    await create_priority(
        ALDERSGATE, "Bicycle theft near the station", issue_date=start - timedelta(days=20),
        synced_at=start - timedelta(days=1),
    )  # fmt: skip
    clock.advance(hours=1)
    first = await publish_post(world["officer"], CLEAN_TEXTS[0], [ALDERSGATE], now=clock.now)
    clock.advance(hours=1)
    await create_crime_month(
        "2017-09",
        [CrimeSpec("burglary", ALDERSGATE), CrimeSpec("drugs", ALDERSGATE)],
        arrived_at=clock.now,
    )
    clock.advance(hours=1)
    second = await publish_post(world["officer"], CLEAN_TEXTS[1], [ALDERSGATE], now=clock.now)
    soon = await create_event(
        ALDERSGATE, "Beat surgery", starts_at=clock.now + timedelta(days=2), synced_at=clock.now
    )
    later = await create_event(
        ALDERSGATE, "Ward panel", starts_at=clock.now + timedelta(days=9), synced_at=clock.now
    )
    await create_event(
        ALDERSGATE, "Past meeting", starts_at=clock.now - timedelta(days=1), synced_at=clock.now
    )

    status, body, headers = await get_json(client, FEED)

    assert status == 200
    assert headers["Cache-Control"] == "public, max-age=60"
    shown = [(i["type"], i["id"]) for i in body["items"]]
    assert [kind for kind, _ in shown] == [
        "event", "event", "post", "crime_stats", "post", "priority", "crime_stats",
    ]  # fmt: skip
    assert [i["event"]["title"] for i in body["items"][:2]] == [later.title, soon.title]
    assert [item_id for _, item_id in shown][2:5] == [
        f"post:{second.id}",
        f"crime-stats:{DEMO_FORCE}:{ALDERSGATE}:2017-09",
        f"post:{first.id}",
    ]
    assert shown[6][1] == f"crime-stats:{DEMO_FORCE}:{ALDERSGATE}:2017-08"
    assert len({item_id for _, item_id in shown}) == len(shown)
    times = [datetime.fromisoformat(i["time"]) for i in body["items"]]
    assert times == sorted(times, reverse=True)
    card = body["items"][3]["crime_stats"]
    assert (card["month"], card["total"], card["previous_total"]) == ("2017-09", 2, 1)
    assert card["by_category"]["drugs"] == 1 and card["by_category"]["robbery"] == 0
    assert body["items"][6]["crime_stats"]["previous_total"] is None  # 2017-07 never imported
    assert body["items"][2]["post"]["text"] == CLEAN_TEXTS[1]
    assert body["items"][5]["priority"]["issue"] == "Bicycle theft near the station"
    assert all(i["areas"][0]["id"] == ALDERSGATE for i in body["items"])
    assert body["attribution"].startswith("Contains public sector information")
    assert body["next_cursor"] is None


async def test_posts_in_the_feed_show_only_public_fields_never_the_phones_position(
    client, world, clock
):
    await publish_post(
        world["officer"], CLEAN_TEXTS[0], [ALDERSGATE], now=clock.now, location=GPS,
        location_label="Aldersgate Street",
    )  # fmt: skip
    response = await client.get(FEED)
    raw = await response.text()
    (item,) = json.loads(raw)["items"]
    assert set(item["post"]) == {
        "id", "kind", "text", "text_cy", "location_label", "neighbourhoods", "photos", "published_at",
    }  # fmt: skip
    assert item["post"]["location_label"] == "Aldersgate Street"
    for digits in ("5181237", "0972519", "gps"):
        assert digits not in raw


async def test_pages_neither_repeat_nor_skip_while_new_posts_are_published(client, world, clock):
    older = []
    for i in range(7):
        clock.advance(minutes=5)
        older.append(
            await publish_post(world["officer"], CLEAN_TEXTS[i % 4], [ALDERSGATE], now=clock.now)
        )
    status, first, _ = await get_json(client, FEED, params={"limit": "3"})
    assert status == 200
    seen = [i["id"] for i in first["items"]]
    cursor = first["next_cursor"]
    newer = []
    while cursor:
        clock.advance(minutes=5)  # two more posts land above the reader between pages
        newer.append(
            await publish_post(world["officer"], CLEAN_TEXTS[0], [ALDERSGATE], now=clock.now)
        )
        newer.append(
            await publish_post(world["officer"], CLEAN_TEXTS[1], [ALDERSGATE], now=clock.now)
        )
        _, page, _ = await get_json(client, FEED, params={"limit": "3", "cursor": cursor})
        seen += [i["id"] for i in page["items"]]
        cursor = page["next_cursor"]
    assert seen == [f"post:{p.id}" for p in reversed(older)]
    fresh = await all_pages(client, FEED, 4)
    assert len(fresh) == len(older) + len(newer)
    assert {i["id"] for i in fresh} == {f"post:{p.id}" for p in [*older, *newer]}


async def test_posts_published_at_the_same_instant_page_in_a_fixed_order(client, world, clock):
    made = {
        f"post:{(await publish_post(world['officer'], CLEAN_TEXTS[i], [ALDERSGATE], now=clock.now)).id}"
        for i in range(4)
    }
    paged = await all_pages(client, FEED, 1)
    assert [i["id"] for i in paged] == sorted(made, reverse=True)


async def test_etag_answers_304_until_a_publish_withdraw_or_import_changes_the_feed(
    client, world, clock
):
    post = await publish_post(world["officer"], CLEAN_TEXTS[0], [ALDERSGATE], now=clock.now)
    _, _, headers = await get_json(client, FEED)
    tag = headers["ETag"]
    status, _, again = await get_json(client, FEED, headers={"If-None-Match": tag})
    assert status == 304 and again["ETag"] == tag
    status, _, _ = await get_json(client, FEED, headers={"If-None-Match": f'"other", W/{tag}'})
    assert status == 304

    clock.advance(seconds=10)
    await publish_post(world["officer"], CLEAN_TEXTS[1], [ALDERSGATE], now=clock.now)
    status, body, after_publish = await get_json(client, FEED, headers={"If-None-Match": tag})
    assert status == 200 and len(body["items"]) == 2
    assert after_publish["ETag"] != tag

    await posts.withdraw(world["comms"], post.id, reason="Posted by mistake", now=clock.now)
    status, body, after_withdraw = await get_json(
        client, FEED, headers={"If-None-Match": after_publish["ETag"]}
    )
    assert status == 200
    assert f"post:{post.id}" not in [i["id"] for i in body["items"]]
    assert after_withdraw["ETag"] not in (tag, after_publish["ETag"])

    await create_crime_month("2017-09", [CrimeSpec("drugs", BISHOPSGATE)], arrived_at=clock.now)
    status, body, after_import = await get_json(
        client, FEED, headers={"If-None-Match": after_withdraw["ETag"]}
    )
    assert status == 200
    (card,) = [i["crime_stats"] for i in body["items"] if i["type"] == "crime_stats"]
    assert card["total"] == 0  # the month is known, with no crimes here
    assert after_import["ETag"] != after_withdraw["ETag"]


async def test_a_withdrawn_post_leaves_every_page_at_once(client, world, clock):
    kept = await publish_post(world["officer"], CLEAN_TEXTS[0], [ALDERSGATE], now=clock.now)
    clock.advance(minutes=1)
    gone = await publish_post(world["officer"], CLEAN_TEXTS[1], [ALDERSGATE], now=clock.now)
    assert len(await all_pages(client, FEED, 1)) == 2
    await posts.withdraw(world["comms"], gone.id, reason="A takedown", now=clock.now)
    assert [i["id"] for i in await all_pages(client, FEED, 1)] == [f"post:{kept.id}"]


async def test_an_event_leaves_the_feed_once_it_starts(client, world, clock):
    await create_event(
        ALDERSGATE, "Beat surgery", starts_at=clock.now + timedelta(minutes=3), synced_at=clock.now
    )
    _, body, headers = await get_json(client, FEED)
    assert [i["type"] for i in body["items"]] == ["event"]
    clock.advance(minutes=4)
    status, body, later = await get_json(client, FEED, headers={"If-None-Match": headers["ETag"]})
    assert status == 200 and body["items"] == []
    assert later["ETag"] != headers["ETag"]


async def test_priority_and_event_ids_survive_a_sync_that_replaces_their_rows(client, world, clock):
    issued = clock.now - timedelta(days=3)
    await create_priority(ALDERSGATE, "Noise at night", issue_date=issued, synced_at=clock.now)
    await create_event(
        ALDERSGATE, "Surgery", starts_at=clock.now + timedelta(days=1), synced_at=clock.now
    )
    _, before, _ = await get_json(client, FEED)
    # A sync that changed the area's set deletes and recreates its rows.
    await Priority.all().delete()
    await AreaEvent.all().delete()
    await create_priority(ALDERSGATE, "Noise at night", issue_date=issued, synced_at=clock.now)
    await create_event(
        ALDERSGATE, "Surgery", starts_at=clock.now + timedelta(days=1), synced_at=clock.now
    )
    await create_priority(ALDERSGATE, "Cycle theft", issue_date=issued, synced_at=clock.now)
    _, after, _ = await get_json(client, FEED)
    assert {i["id"] for i in before["items"]} < {i["id"] for i in after["items"]}
    assert len(after["items"]) == 3


async def test_a_priority_without_a_date_sits_at_its_sync_time(client, world, clock):
    await publish_post(
        world["officer"], CLEAN_TEXTS[0], [ALDERSGATE], now=clock.now - timedelta(hours=2)
    )
    await create_priority(
        ALDERSGATE, "Noise at night", issue_date=None, synced_at=clock.now - timedelta(hours=1)
    )
    _, body, _ = await get_json(client, FEED)
    assert [i["type"] for i in body["items"]] == ["priority", "post"]
    assert body["items"][0]["priority"]["issue_date"] is None


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"limit": "0"}, "limit"),
        ({"limit": "51"}, "limit"),
        ({"limit": "ten"}, "limit"),
        ({"limit": "٣"}, "limit"),
        ({"cursor": "not-a-cursor"}, "cursor"),
        ({"cursor": "WyIyMDI2LTAxLTAxIiwicG9zdCIsInBvc3Q6eCJd"}, "cursor"),  # a naive time, bad id
        ({"colour": "blue"}, "colour"),
    ],
)
async def test_bad_paging_parameters_are_422_naming_the_parameter(client, world, params, field):
    response = await client.get(FEED, params=params)
    assert response.status == 422
    assert response.content_type == "application/problem+json"
    assert [e["field"] for e in (await response.json())["errors"]] == [field]


async def test_unknown_and_retired_areas_are_404(client, world):
    for path in (
        f"/v1/areas/{DEMO_FORCE}/E00000000/feed",
        "/v1/areas/nowhere/E05009288/feed",
        f"/v1/areas/{DEMO_FORCE}/{'x' * 101}/feed",
    ):
        response = await client.get(path)
        assert response.status == 404, path
        assert response.content_type == "application/problem+json"


async def test_two_app_instances_on_one_database_invalidate_each_others_caches(
    aiohttp_client, settings, world, clock
):
    """Two processes' worth of apps: a publish through one retires the other's cached page."""
    one = await aiohttp_client(create_app(settings, clock=clock))
    two_app = create_app(settings, clock=clock)
    two = await aiohttp_client(two_app)
    post = await publish_post(world["officer"], CLEAN_TEXTS[0], [ALDERSGATE], now=clock.now)
    _, warm, _ = await get_json(two, FEED)
    assert len(two_app[FEED_CACHE]) == 1
    # A change that bumps no feed version stays invisible: `two` answers from its cache.
    await Post.filter(id=post.id).update(text="Changed behind the feed's back.")
    _, cached, _ = await get_json(two, FEED)
    assert cached == warm

    token = await bearer(one, OFFICER)
    clock.advance(seconds=1)
    response = await one.post(
        "/v1/posts",
        json={"text": CLEAN_TEXTS[2], "neighbourhoods": [ALDERSGATE]},
        headers={**token, "Idempotency-Key": str(uuid.uuid4())},
    )
    assert response.status == 201 and (await response.json())["status"] == "published"

    _, fresh, _ = await get_json(two, FEED)
    assert [i["post"]["text"] for i in fresh["items"]] == [
        CLEAN_TEXTS[2],
        "Changed behind the feed's back.",
    ]


# ---- /v1/me/feed ----------------------------------------------------------------------------


async def test_my_feed_merges_followed_areas_and_shows_a_shared_post_once(client, world, clock):
    resident = world["resident"]
    token = await bearer(client, RESIDENT)  # before the clock moves on: tokens use real time
    await follow(resident, [ALDERSGATE, BISHOPSGATE], now=clock.now)
    await create_crime_month(
        "2017-09",
        [
            CrimeSpec("drugs", ALDERSGATE),
            CrimeSpec("robbery", BISHOPSGATE),
            CrimeSpec("robbery", BISHOPSGATE),
        ],
        arrived_at=clock.now - timedelta(days=1),
    )
    both = await publish_post(
        world["officer"], CLEAN_TEXTS[0], [ALDERSGATE, BISHOPSGATE], now=clock.now
    )
    clock.advance(minutes=1)
    one = await publish_post(world["officer"], CLEAN_TEXTS[1], [BISHOPSGATE], now=clock.now)

    status, body, headers = await get_json(client, "/v1/me/feed", headers=token)

    assert status == 200
    assert headers["Cache-Control"] == "private, no-cache"
    assert sorted(a["id"] for a in body["areas"]) == [ALDERSGATE, BISHOPSGATE]
    ids = [i["id"] for i in body["items"]]
    assert ids[:2] == [f"post:{one.id}", f"post:{both.id}"]
    assert len(ids) == len(set(ids)) == 4
    shared = body["items"][1]
    assert sorted(a["id"] for a in shared["areas"]) == [ALDERSGATE, BISHOPSGATE]
    cards = {i["areas"][0]["id"]: i["crime_stats"]["total"] for i in body["items"][2:]}
    assert cards == {ALDERSGATE: 1, BISHOPSGATE: 2}

    status, _, _ = await get_json(
        client, "/v1/me/feed", headers={**token, "If-None-Match": headers["ETag"]}
    )
    assert status == 304


async def test_a_device_without_an_account_gets_its_merged_feed_too(client, world, clock):
    registered = await client.post("/v1/devices")
    assert registered.status == 201
    device = {"Authorization": f"Device {(await registered.json())['device_secret']}"}
    followed = await client.put(f"/v1/me/follows/{DEMO_FORCE}/{ALDERSGATE}", headers=device)
    assert followed.status == 201, await followed.text()
    made = await publish_post(world["officer"], CLEAN_TEXTS[0], [ALDERSGATE], now=clock.now)
    await publish_post(world["officer"], CLEAN_TEXTS[1], [BISHOPSGATE], now=clock.now)

    status, body, _ = await get_json(client, "/v1/me/feed", headers=device)

    assert status == 200
    assert [a["id"] for a in body["areas"]] == [ALDERSGATE]
    assert [i["id"] for i in body["items"]] == [f"post:{made.id}"]
    forged = await client.get("/v1/me/feed", headers={"Authorization": "Device dv_" + "A" * 43})
    assert forged.status == 401


async def test_my_feed_needs_sign_in_and_is_empty_without_follows(client, world):
    response = await client.get("/v1/me/feed")
    assert response.status == 401
    status, body, _ = await get_json(client, "/v1/me/feed", headers=await bearer(client, RESIDENT))
    assert status == 200
    assert (body["areas"], body["items"], body["next_cursor"]) == ([], [], None)


async def test_following_another_area_changes_my_feed_and_its_etag(client, world, clock):
    resident = world["resident"]
    subscriber = await follow(resident, [ALDERSGATE], now=clock.now)
    await publish_post(world["officer"], CLEAN_TEXTS[1], [BISHOPSGATE], now=clock.now)
    token = await bearer(client, RESIDENT)
    _, before, headers = await get_json(client, "/v1/me/feed", headers=token)
    assert before["items"] == []
    bishopsgate = await Neighbourhood.get(force_id=DEMO_FORCE, code=BISHOPSGATE)
    await Follow.create(subscriber=subscriber, neighbourhood=bishopsgate, created_at=clock.now)
    status, after, _ = await get_json(
        client, "/v1/me/feed", headers={**token, "If-None-Match": headers["ETag"]}
    )
    assert status == 200 and [i["type"] for i in after["items"]] == ["post"]


# ---- Atom -----------------------------------------------------------------------------------

ATOM = "{http://www.w3.org/2005/Atom}"
ATOM_PATH = f"/areas/{DEMO_FORCE}/{ALDERSGATE}/feed.atom"
RFC3339 = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})")


def parse_xml(raw: bytes) -> ET.Element:
    """Our own service's output, so the standard parser is safe here."""
    return ET.fromstring(raw)  # noqa: S314


AWKWARD = 'Bins & bikes <b>not</b> "safe" on Aldersgate Street tonight, it\'s true'


async def test_the_atom_feed_is_valid_atom_with_posts_and_monthly_summaries(client, world, clock):
    await create_crime_month(
        "2017-09", [CrimeSpec("drugs", ALDERSGATE), CrimeSpec("drugs", ALDERSGATE)],
        arrived_at=clock.now - timedelta(days=3),
    )  # fmt: skip
    await create_event(
        ALDERSGATE, "Surgery", starts_at=clock.now + timedelta(days=1), synced_at=clock.now
    )
    post = await publish_post(world["officer"], AWKWARD, [ALDERSGATE], now=clock.now, location=GPS)

    response = await client.get(ATOM_PATH)

    assert response.status == 200
    assert response.content_type == "application/atom+xml"
    assert response.headers["Cache-Control"] == "public, max-age=60"
    raw = await response.read()
    root = parse_xml(raw)
    assert root.tag == f"{ATOM}feed"
    for name in ("id", "title", "updated", "author", "rights"):
        assert root.find(f"{ATOM}{name}") is not None, name
    assert root.find(f"{ATOM}author/{ATOM}name").text == "City of London Police"
    assert root.find(f"{ATOM}rights").text == OGL
    links = {link.get("rel"): link.get("href") for link in root.findall(f"{ATOM}link")}
    assert links["self"].endswith(ATOM_PATH)
    assert links["alternate"].endswith(FEED)
    feed_id = root.find(f"{ATOM}id").text
    assert feed_id.startswith(("urn:uuid:", "tag:"))
    entries = root.findall(f"{ATOM}entry")
    assert len(entries) == 2  # the post and the month: events are not in the Atom feed
    ids = [e.find(f"{ATOM}id").text for e in entries]
    assert len(set(ids)) == len(ids) and feed_id not in ids
    for element in [root, *entries]:
        assert RFC3339.fullmatch(element.find(f"{ATOM}updated").text)
        assert element.find(f"{ATOM}title").text
    first, second = entries
    assert first.find(f"{ATOM}id").text == f"urn:uuid:{post.id}"
    content = first.find(f"{ATOM}content")
    assert content.get("type") == "text" and content.text == AWKWARD
    assert b"&lt;b&gt;" in raw and b"<b>" not in raw
    summary = second.find(f"{ATOM}content").text
    assert "Drugs: 2" in summary and OGL in summary
    assert b"5181237" not in raw  # never the phone's position

    parsed = feedparser.parse(raw)
    assert parsed.bozo == 0, parsed.get("bozo_exception")
    assert parsed.version == "atom10"
    assert parsed.feed.id == feed_id
    assert [e.id for e in parsed.entries] == ids
    assert parsed.entries[0].content[0].value == AWKWARD


async def test_the_atom_feed_id_is_stable_and_an_entry_keeps_its_id(client, world, clock):
    await publish_post(world["officer"], CLEAN_TEXTS[0], [ALDERSGATE], now=clock.now)
    first = parse_xml(await (await client.get(ATOM_PATH)).read())
    clock.advance(minutes=2)
    await publish_post(world["officer"], CLEAN_TEXTS[1], [ALDERSGATE], now=clock.now)
    second = parse_xml(await (await client.get(ATOM_PATH)).read())
    assert first.find(f"{ATOM}id").text == second.find(f"{ATOM}id").text
    assert (
        first.find(f"{ATOM}entry/{ATOM}id").text == second.findall(f"{ATOM}entry/{ATOM}id")[1].text
    )
    other = await client.get(f"/areas/{DEMO_FORCE}/{BISHOPSGATE}/feed.atom")
    assert parse_xml(await other.read()).find(f"{ATOM}id").text != first.find(f"{ATOM}id").text


async def test_control_characters_in_a_post_do_not_break_the_atom_feed(client, world, clock):
    post = await publish_post(world["officer"], CLEAN_TEXTS[0], [ALDERSGATE], now=clock.now)
    await Post.filter(id=post.id).update(text="Bell\x07 and form feed\x0c in a post")
    await feed_versions.bump([(await Neighbourhood.get(code=ALDERSGATE)).id], clock.now)
    raw = await (await client.get(ATOM_PATH)).read()
    entry = parse_xml(raw).find(f"{ATOM}entry")
    assert entry.find(f"{ATOM}content").text == "Bell and form feed in a post"


async def test_the_atom_feed_of_an_unknown_area_is_404(client, world):
    response = await client.get(f"/areas/{DEMO_FORCE}/E00000000/feed.atom")
    assert response.status == 404
