"""Pure rules for police.uk queries and documents: `poly` strings, splitting, UK local time."""

from __future__ import annotations

import json
import math
from datetime import UTC, datetime
from pathlib import Path

import pytest
from shapely.geometry import MultiPolygon, Point, Polygon, box, shape

from beat.area_extras import parse_events, parse_priorities, uk_time
from beat.crimesync import check_month, parse_last_updated, parse_months
from beat.errors import Invalid, SourceError
from beat.policeuk.client import MAX_OUTLINE_POINTS, halves, outline, outlines, poly_param

DATA = Path(__file__).resolve().parents[1] / "data"


def ring_of(points: int, radius: float = 0.01) -> Polygon:
    """A many-sided ring around the City: a lobed outline traced with metre-sized jitter."""
    ring = []
    for i in range(points):
        angle = 2 * math.pi * i / points
        r = radius + 0.002 * math.sin(5 * angle) + 0.00001 * math.sin(i * 1.7)
        ring.append((-0.09 + r * math.cos(angle), 51.515 + r * math.sin(angle)))
    return Polygon(ring)


def test_poly_puts_latitude_first_and_leaves_the_ring_open():
    square = box(-0.1, 51.5, -0.09, 51.51)
    param = poly_param(square)
    pairs = [tuple(map(float, p.split(","))) for p in param.split(":")]
    assert len(pairs) == 4  # police.uk joins the last point to the first itself
    assert {lat for lat, _ in pairs} == {51.5, 51.51}
    assert {lng for _, lng in pairs} == {-0.1, -0.09}


def test_poly_rounds_to_snap_point_precision():
    noisy = Polygon([(-0.0854821269999, 51.51), (-0.08, 51.5112345678901), (-0.09, 51.52)])
    assert "-0.085482" in poly_param(noisy)
    assert "51.511235" in poly_param(noisy)


def test_huge_outlines_are_simplified_but_still_cover_the_area():
    detailed = ring_of(3000)
    simpler = outline(detailed)
    assert len(simpler.exterior.coords) <= MAX_OUTLINE_POINTS
    assert simpler.buffer(1e-9).covers(detailed)
    # ... and barely bigger: the strip gained is metres wide, not a different place.
    assert simpler.hausdorff_distance(detailed) < 0.0002


def test_small_outlines_are_sent_as_they_are():
    ward = shape(
        json.loads((DATA / "boundaries" / "WD19CD" / "E05009288.geojsonl").read_text())["geometry"]
    )
    (only,) = outlines(ward)
    assert only.equals(Polygon(ward.geoms[0].exterior))


def test_a_multipolygon_is_asked_part_by_part_and_holes_are_not_sent():
    donut = Polygon(box(0, 51, 0.1, 51.1).exterior, [box(0.04, 51.04, 0.06, 51.06).exterior])
    island = box(0.2, 51, 0.21, 51.01)
    parts = outlines(MultiPolygon([donut, island]))
    assert len(parts) == 2
    assert all(not p.interiors for p in parts)
    assert parts[0].contains(Point(0.05, 51.05))  # the hole's crimes come back; callers filter


@pytest.mark.parametrize(
    ("area", "cut_across"),
    [
        (box(-0.1, 51.5, 0.1, 51.51), "longitude"),  # wide: cut east-west halves
        (box(-0.01, 51.4, 0.01, 51.6), "latitude"),  # tall: cut north-south halves
    ],
)
def test_halves_cut_the_longer_side_and_cover_the_polygon(area, cut_across):
    pieces = halves(area)
    assert len(pieces) == 2
    assert abs(sum(p.area for p in pieces) - area.area) < 1e-12
    a, b = (p.bounds for p in pieces)
    if cut_across == "longitude":
        assert a[2] == b[0]
    else:
        assert a[3] == b[1]


def test_halves_of_a_concave_area_keep_every_part():
    u_shape = Polygon([(0, 0), (3, 0), (3, 3), (2, 3), (2, 1), (1, 1), (1, 3), (0, 3)])
    pieces = halves(u_shape)
    assert abs(sum(p.area for p in pieces) - u_shape.area) < 1e-9


@pytest.mark.parametrize(
    ("written", "utc"),
    [
        ("2017-12-06T10:00:00", datetime(2017, 12, 6, 10, 0, tzinfo=UTC)),  # GMT
        ("2024-12-11T13:30:00", datetime(2024, 12, 11, 13, 30, tzinfo=UTC)),
        ("2017-07-12T13:30:00", datetime(2017, 7, 12, 12, 30, tzinfo=UTC)),  # BST
        ("2018-09-20T00:00:00", datetime(2018, 9, 19, 23, 0, tzinfo=UTC)),  # BST midnight
        ("2017-10-29T01:30:00", datetime(2017, 10, 29, 0, 30, tzinfo=UTC)),  # twice: the first
        ("2017-03-26T01:30:00", datetime(2017, 3, 26, 1, 30, tzinfo=UTC)),  # never: read as GMT
        ("2024-01-04T07:41:00+00:00", datetime(2024, 1, 4, 7, 41, tzinfo=UTC)),
        ("", None),
        (None, None),
        ("next Tuesday", None),
    ],
)
def test_police_uk_times_are_uk_local_time(written, utc):
    assert uk_time(written) == utc


def test_priorities_lose_their_html_and_keep_hyphenated_dates():
    found = parse_priorities(
        [
            {
                "issue": "<p>Beggars &amp; rough sleepers at the station</p>",
                "issue-date": "2018-09-20T00:00:00",
                "action": "<p>Reviewed.</p>",
                "action-date": "2019-01-14T00:00:00",
            },
            {
                "issue": "To reduce ASB in Humberstone Gate.",
                "issue-date": "2016-04-14T00:00:00",
                "action": None,
                "action-date": None,
            },
            {"issue": "<p> </p>", "issue-date": None},
        ],
        "priorities",
    )
    assert [p.issue for p in found] == [
        "Beggars & rough sleepers at the station",
        "To reduce ASB in Humberstone Gate.",
    ]
    assert found[0].action == "Reviewed."
    assert found[0].action_date == datetime(2019, 1, 14, 0, 0, tzinfo=UTC)
    assert (found[1].action, found[1].action_date) == ("", None)


def test_events_without_an_end_or_a_title():
    found = parse_events(
        [
            {"title": "Beat surgery", "type": "meeting", "start_date": "2011-11-02T10:00:00"},
            {"title": "", "type": "meeting", "start_date": "2011-11-02T10:00:00"},
        ],
        "events",
    )
    assert len(found) == 1
    assert found[0].ends_at is None
    assert found[0].starts_at == datetime(2011, 11, 2, 10, 0, tzinfo=UTC)


@pytest.mark.parametrize("payload", [{"title": "x"}, ["not an object"], None])
def test_malformed_lists_are_source_errors(payload):
    with pytest.raises(SourceError, match="events"):
        parse_events(payload, "https://data.police.uk/api/f/n/events")


def test_months_and_last_updated():
    assert parse_last_updated({"date": "2015-04-01"}, "x") == "2015-04"
    assert parse_months([{"date": "2015-05", "stop-and-search": []}, {"date": "2015-06"}], "x") == [
        "2015-06",
        "2015-05",
    ]
    with pytest.raises(SourceError):
        parse_last_updated({"date": "April"}, "x")
    with pytest.raises(Invalid):
        check_month("2015-13")
