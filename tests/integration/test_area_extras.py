"""Priorities and events come with `beat areas sync`: plain text, UTC, replaced as a set."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import aiohttp
import pytest

from beat import areas, feed_versions
from beat.errors import SourceError
from beat.models import AreaEvent, Neighbourhood, Priority
from tests.fakes.policeuk import ROOTS, start
from tests.helpers import ALDERSGATE, BISHOPSGATE, DEMO_FORCE
from tests.policeuk_helpers import FAST, copy_api_folder, fast_client


@pytest.fixture
def api_folder(tmp_path: Path) -> Path:
    return copy_api_folder(tmp_path / "api")


@pytest.fixture
async def police_uk(aiohttp_server, api_folder):
    return await start(aiohttp_server, roots=(api_folder, *ROOTS[1:]), **FAST)


async def sync(police_uk, clock):
    async with aiohttp.ClientSession() as session:
        return await areas.sync_force(
            fast_client(session, police_uk.base_url), DEMO_FORCE, now=clock()
        )


async def area_id(code: str) -> int:
    return (await Neighbourhood.get(force_id=DEMO_FORCE, code=code)).id


async def test_priorities_are_plain_text_with_their_dates_in_utc(db, police_uk, clock):
    await sync(police_uk, clock)
    found = await Priority.filter(neighbourhood_id=await area_id(ALDERSGATE)).order_by("position")
    assert [p.issue for p in found] == [
        "Cycle thefts from the stands on Aldersgate Street & around the Barbican.",
        "Anti-social behaviour on the Barbican highwalks late at night.",
    ]
    assert found[0].action == (
        "Plain-clothes patrols at the busiest times; free bike marking at the Barbican Centre "
        "on 12 July."
    )
    # Agreed at midnight on 14 March (GMT); acted on at midnight on 2 July (BST).
    assert found[0].issue_date == datetime(2017, 3, 14, 0, 0, tzinfo=UTC)
    assert found[0].action_date == datetime(2017, 7, 1, 23, 0, tzinfo=UTC)
    assert (found[1].action, found[1].action_date) == ("", None)


async def test_events_are_plain_text_in_utc_and_may_have_no_end(db, police_uk, clock):
    await sync(police_uk, clock)
    found = await AreaEvent.filter(neighbourhood_id=await area_id(ALDERSGATE)).order_by("starts_at")
    surgery, marking = found
    assert surgery.title == "Beat surgery"
    assert surgery.kind == "meeting"
    assert surgery.description.startswith("Come and meet your local team \N{EN DASH} bring")
    assert "<" not in surgery.description
    assert surgery.address == "Barbican Library, Silk Street, EC2Y 8DS"
    assert (surgery.starts_at, surgery.ends_at) == (
        datetime(2017, 7, 12, 12, 30, tzinfo=UTC),  # 13:30 BST
        datetime(2017, 7, 12, 14, 0, tzinfo=UTC),
    )
    assert marking.title == "Bike marking & security advice"
    assert marking.starts_at == datetime(2017, 12, 6, 10, 0, tzinfo=UTC)  # GMT
    assert marking.ends_at is None
    assert marking.contact_details == {
        "telephone": "101",
        "email": "aldersgate.snt@example.police.uk",
    }
    (meeting,) = await AreaEvent.filter(neighbourhood_id=await area_id(BISHOPSGATE))
    assert meeting.address == "St Ethelburga's Centre, 78 Bishopsgate, EC2N 4AG"


async def test_areas_without_priorities_or_events_have_none(db, police_uk, clock):
    result = await sync(police_uk, clock)
    assert result.total == 25
    assert police_uk.state.requests["priorities"] == 25
    assert police_uk.state.requests["events"] == 25
    with_any = {
        *await Priority.all().values_list("neighbourhood_id", flat=True),
        *await AreaEvent.all().values_list("neighbourhood_id", flat=True),
    }
    assert with_any == {await area_id(ALDERSGATE), await area_id(BISHOPSGATE)}


async def test_a_resync_replaces_the_set_and_moves_only_changed_feeds(
    db, police_uk, api_folder, clock
):
    first = await sync(police_uk, clock)
    assert first.extras_changed == 2
    aldersgate, bishopsgate = await area_id(ALDERSGATE), await area_id(BISHOPSGATE)
    before = await feed_versions.versions([aldersgate, bishopsgate])

    clock.advance(days=1)
    again = await sync(police_uk, clock)
    assert again.extras_changed == 0
    assert await feed_versions.versions([aldersgate, bishopsgate]) == before
    assert await Priority.filter(neighbourhood_id=aldersgate).count() == 2

    events = api_folder / DEMO_FORCE / ALDERSGATE / "events.json"
    kept = json.loads(events.read_text())[:1]
    events.write_text(json.dumps(kept))
    (api_folder / DEMO_FORCE / ALDERSGATE / "priorities.json").unlink()
    clock.advance(days=1)
    changed = await sync(police_uk, clock)

    assert changed.extras_changed == 1
    after = await feed_versions.versions([aldersgate, bishopsgate])
    assert after[aldersgate] == before[aldersgate] + 1
    assert after[bishopsgate] == before[bishopsgate]
    assert await Priority.filter(neighbourhood_id=aldersgate).count() == 0
    assert [e.title for e in await AreaEvent.filter(neighbourhood_id=aldersgate)] == [
        "Beat surgery"
    ]


async def test_an_events_outage_fails_the_sync_and_writes_nothing(db, police_uk, clock):
    police_uk.window(60, status=500, on="events")
    async with aiohttp.ClientSession() as session:
        client = fast_client(session, police_uk.base_url, retries=1)
        with pytest.raises(SourceError, match=r"/api/city-of-london/E0500\d+/events: HTTP 500"):
            await areas.sync_force(client, DEMO_FORCE, now=clock())
    assert await Neighbourhood.all().count() == 0
    assert await AreaEvent.all().count() == 0


async def test_a_broken_priorities_document_names_itself(db, police_uk, api_folder, clock):
    (api_folder / DEMO_FORCE / BISHOPSGATE).mkdir(exist_ok=True)
    (api_folder / DEMO_FORCE / BISHOPSGATE / "priorities.json").write_text('{"issue": "x"}')
    with pytest.raises(SourceError, match=rf"{BISHOPSGATE}/priorities: expected a list"):
        await sync(police_uk, clock)
    assert await Priority.all().count() == 0
