"""The feed's and the statistics' pure rules: cursors, ETags, the page cache, months, XML text."""

from __future__ import annotations

import base64
import json
from datetime import UTC, date, datetime, timedelta, timezone

import pytest

from beat import atom, crimestats, feed
from beat.errors import Invalid
from beat.feed import PageCache, Position

WHEN = datetime(2026, 11, 25, 18, 30, 5, 123456, tzinfo=UTC)
POST_ID = "post:9b2f4c1e-8a47-4d0e-b1f3-5c2a7d9e6f10"


def test_a_cursor_round_trips_its_position_to_the_microsecond():
    position = Position(WHEN, feed.POST, POST_ID)
    assert feed.decode_cursor(feed.encode_cursor(position)) == position


def test_a_cursor_time_in_another_zone_is_the_same_instant():
    local = WHEN.astimezone(timezone(timedelta(hours=1)))
    decoded = feed.decode_cursor(feed.encode_cursor(Position(local, feed.EVENT, "event:ab")))
    assert decoded.time == WHEN and decoded.time.tzinfo == UTC


def _cursor(payload: object) -> str:
    return base64.urlsafe_b64encode(json.dumps(payload).encode()).decode().rstrip("=")


@pytest.mark.parametrize(
    "text",
    [
        "",
        "%%%",
        "x" * 401,
        "é",
        _cursor(["2026-11-25T18:30:05+00:00", "post"]),
        _cursor(["2026-11-25T18:30:05", "post", POST_ID]),  # no time zone
        _cursor(["2026-11-25T18:30:05+00:00", "tweet", "tweet:1"]),
        _cursor(["2026-11-25T18:30:05+00:00", "post", "event:1"]),
        _cursor(["2026-11-25T18:30:05+00:00", "post", "post:not-a-uuid"]),
        _cursor(["yesterday", "post", POST_ID]),
        _cursor({"t": 1}),
    ],
)
def test_anything_but_a_cursor_the_feed_gave_out_is_invalid(text):
    with pytest.raises(Invalid) as caught:
        feed.decode_cursor(text)
    assert caught.value.errors[0].field == "cursor"


def test_positions_order_by_time_then_type_then_id():
    earlier = Position(WHEN - timedelta(seconds=1), feed.PRIORITY, "priority:z")
    same_time = [Position(WHEN, kind, f"{kind}:a") for kind in feed.TYPES]
    ordered = sorted([*same_time, earlier], reverse=True)
    assert ordered[-1] == earlier
    assert [p.type for p in ordered[:-1]] == sorted(feed.TYPES, reverse=True)


@pytest.mark.parametrize(("raw", "limit"), [(None, 20), ("1", 1), ("50", 50)])
def test_limit_defaults_to_20_and_allows_1_to_50(raw, limit):
    assert feed.parse_limit(raw) == limit


@pytest.mark.parametrize("raw", ["0", "51", "-1", "1.5", "", "²"])
def test_other_limits_are_invalid(raw):
    with pytest.raises(Invalid):
        feed.parse_limit(raw)


def test_etags_differ_with_any_input_and_match_weakly_or_in_lists():
    tag = feed.etag("1:4", "cursor", 20)
    assert tag != feed.etag("1:5", "cursor", 20) != feed.etag("1:4", "cursor", 21)
    assert tag.startswith('"') and tag.endswith('"')
    assert feed.etag_matches(tag, tag)
    assert feed.etag_matches(f'"nope", W/{tag}', tag)
    assert feed.etag_matches("*", tag)
    assert not feed.etag_matches(None, tag)
    assert not feed.etag_matches('"nope"', tag)


def test_the_upcoming_cutoff_is_the_minute():
    assert feed.upcoming_cutoff(WHEN) == WHEN.replace(second=0, microsecond=0)


def test_the_page_cache_serves_a_page_only_under_the_token_it_was_made_with():
    cache: PageCache[str] = PageCache(size=2)
    cache.put("a", "v1", "page a")
    assert cache.get("a", "v1") == "page a"
    assert cache.get("a", "v2") is None
    cache.put("b", "v1", "page b")
    cache.get("a", "v1")  # a is now the most recently used
    cache.put("c", "v1", "page c")
    assert cache.get("b", "v1") is None and cache.get("a", "v1") == "page a"
    assert len(cache) == 2
    off: PageCache[str] = PageCache(size=0)
    off.put("a", "v1", "page a")
    assert off.get("a", "v1") is None


@pytest.mark.parametrize(
    ("month", "by", "expected"),
    [("2017-03", -1, "2017-02"), ("2017-01", -1, "2016-12"), ("2017-09", -12, "2016-09"),
     ("2016-12", 1, "2017-01")],
)  # fmt: skip
def test_months_shift_across_years(month, by, expected):
    assert crimestats.shift_month(month, by) == expected


def test_lag_counts_whole_months_to_todays_month():
    assert crimestats.months_between("2017-09", date(2017, 11, 30)) == 2
    assert crimestats.months_between("2017-12", date(2018, 1, 1)) == 1


@pytest.mark.parametrize("month", ["2017-13", "2017-00", "17-09", "2017-9", "٢٠١٧-09", "2017-09 "])
def test_malformed_months_are_invalid(month):
    with pytest.raises(Invalid):
        crimestats.parse_month(month)


def test_crime_ids_are_64_hex_digits_lower_cased():
    assert crimestats.parse_crime_id("AB" * 32) == "ab" * 32
    for bad in ("ab" * 31, "g" * 64, "ab" * 33):
        with pytest.raises(Invalid):
            crimestats.parse_crime_id(bad)


def test_counts_list_every_category_and_total_them():
    counted = crimestats.counts("2017-09", [("drugs", 2), ("robbery", 1), ("drugs", 1)])
    assert counted.total == 4
    assert counted.by_category["drugs"] == 3
    assert set(crimestats.CATEGORIES) <= set(counted.by_category)


def test_xml_text_drops_only_characters_xml_cannot_hold():
    assert atom.xml_text("a\x00b\x07c\td\ne\rf\ufffeg😀") == "abc\td\ne\rfg😀"
