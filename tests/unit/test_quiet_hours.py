"""Quiet hours on London's wall clock: when an alert raised at a moment may go.

Expected times are worked out by hand from the UK's clock changes: BST (UTC+1) from 01:00 UTC
on the last Sunday of March to 01:00 UTC on the last Sunday of October (29 March and 25 October
in 2026).
"""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from beat.errors import Invalid
from beat.follows import QuietHours, alert_due_at, clock_time

NIGHT = QuietHours.parse("22:00", "07:00")
LUNCH = QuietHours.parse("12:00", "13:30")


def utc(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


@pytest.mark.parametrize(
    ("now", "quiet", "due"),
    [
        # Winter (GMT): local time is UTC.
        ("2026-01-15 21:59", NIGHT, "2026-01-15 21:59"),
        ("2026-01-15 22:00", NIGHT, "2026-01-16 07:00"),
        ("2026-01-15 23:30", NIGHT, "2026-01-16 07:00"),
        ("2026-01-16 03:00", NIGHT, "2026-01-16 07:00"),
        ("2026-01-16 07:00", NIGHT, "2026-01-16 07:00"),
        ("2026-01-16 12:15", LUNCH, "2026-01-16 13:30"),
        ("2026-01-16 13:30", LUNCH, "2026-01-16 13:30"),
        # Summer (BST): 23:30 local is 22:30 UTC; 07:00 local is 06:00 UTC.
        ("2026-07-15 20:59", NIGHT, "2026-07-15 20:59"),
        ("2026-07-15 22:30", NIGHT, "2026-07-16 06:00"),
        ("2026-07-16 05:59", NIGHT, "2026-07-16 06:00"),
        ("2026-07-16 06:00", NIGHT, "2026-07-16 06:00"),
        # The night the clocks go forward: 23:00 GMT on the 28th, quiet until 07:00 BST.
        ("2026-03-28 23:00", NIGHT, "2026-03-29 06:00"),
        ("2026-03-29 02:00", NIGHT, "2026-03-29 06:00"),
        # The night they go back: 23:30 BST on the 24th, quiet until 07:00 GMT.
        ("2026-10-24 22:30", NIGHT, "2026-10-25 07:00"),
        ("2026-10-25 01:30", NIGHT, "2026-10-25 07:00"),
    ],
)
def test_an_alert_waits_until_the_quiet_hours_end(now, quiet, due):
    assert alert_due_at(utc(now), quiet) == utc(due)


def test_without_quiet_hours_an_alert_goes_at_once():
    assert alert_due_at(utc("2026-01-16 03:00"), None) == utc("2026-01-16 03:00")


def test_an_end_the_clocks_pass_twice_is_the_first_still_ahead():
    # Quiet 00:30 to 01:30 on 25 October 2026: 01:30 happens at 00:30 UTC (BST) and again
    # at 01:30 UTC (GMT). At 01:15 UTC (01:15 GMT, the second time round) the end ahead is
    # the second 01:30.
    quiet = QuietHours.parse("00:30", "01:30")
    assert alert_due_at(utc("2026-10-25 00:00"), quiet) == utc("2026-10-25 00:30")
    assert alert_due_at(utc("2026-10-25 01:15"), quiet) == utc("2026-10-25 01:30")


def test_an_end_the_clocks_skip_keeps_the_usual_length():
    # Quiet 00:30 to 01:30 on 29 March 2026: the clocks jump from 01:00 GMT to 02:00 BST,
    # so 01:30 never shows; the quiet lasts its hour and ends at 02:30 BST (01:30 UTC).
    quiet = QuietHours.parse("00:30", "01:30")
    assert alert_due_at(utc("2026-03-29 00:45"), quiet) == utc("2026-03-29 01:30")


@pytest.mark.parametrize("bad", ["7:00", "24:00", "12:60", "12.30", "noon", "", "12:30:00"])
def test_quiet_hours_are_hh_mm(bad):
    with pytest.raises(Invalid) as caught:
        QuietHours.parse(bad, "07:00")
    assert caught.value.errors[0].field == "/quiet_hours/start"


def test_quiet_hours_start_and_end_differ():
    with pytest.raises(Invalid) as caught:
        QuietHours.parse("22:00", "22:00")
    assert caught.value.errors[0].field == "/quiet_hours/end"


def test_clock_times_read_back_as_given():
    assert (clock_time(NIGHT.start), clock_time(NIGHT.end)) == ("22:00", "07:00")
