"""police.uk documents into neighbourhoods: strings for numbers, HTML, entities, broken rings."""

from __future__ import annotations

import pytest
from shapely.geometry import MultiPolygon, Point, Polygon

from beat.areas import (
    parse_boundary,
    parse_force,
    parse_neighbourhood,
    parse_neighbourhood_list,
    plain_text,
)
from beat.errors import SourceError

# Shapes as documented in shared/reference/police-uk-data.md §6-7.
LEICESTER_CITY_CENTRE = {
    "id": "NC04",
    "name": "City Centre",
    "population": "1000",
    "url_force": "http://www.leics.police.uk/local-policing/city-centre",
    "contact_details": {"twitter": "http://twitter.com/centralleicspolice", "telephone": "101",
                        "email": "citycentre@leicestershire.pnn.police.uk", "unknown": "x"},
    "links": [{"url": "http://www.leicester.gov.uk/", "description": None, "title": "Leicester City Council"}],
    "centre": {"latitude": "52.6389", "longitude": "-1.13619"},
    "locations": [{"name": "Mansfield House", "type": "station", "postcode": "LE1 3GG",
                   "address": "74 Belgrave Gate\n, Leicester", "latitude": None, "longitude": None,
                   "description": None}],
    "description": "<p>The Castle neighbourhood is a diverse covering all of the City Centre...</p>",
}  # fmt: skip


def test_neighbourhood_strings_become_numbers_and_html_becomes_text():
    area = parse_neighbourhood(LEICESTER_CITY_CENTRE, "test")
    assert area.code == "NC04"
    assert area.centre == (52.6389, -1.13619)
    assert area.population == 1000
    assert (
        area.description
        == "The Castle neighbourhood is a diverse covering all of the City Centre..."
    )
    assert area.contact_details == {
        "email": "citycentre@leicestershire.pnn.police.uk",
        "telephone": "101",
        "twitter": "http://twitter.com/centralleicspolice",
    }
    assert area.locations[0]["name"] == "Mansfield House"
    assert area.locations[0]["latitude"] is None


def test_odd_values_are_tolerated_not_trusted():
    odd = {**LEICESTER_CITY_CENTRE, "population": "A", "centre": {"latitude": "x", "longitude": "1"},
           "description": None, "contact_details": {}, "locations": [], "url_force": ""}  # fmt: skip
    area = parse_neighbourhood(odd, "test")
    assert area.population is None
    assert area.centre is None
    assert area.description == ""


def test_names_lose_their_html_entities():
    assert parse_neighbourhood_list([{"id": "N1", "name": "Leake &amp; Keyworth"}], "t") == [
        ("N1", "Leake & Keyworth")
    ]


def test_plain_text_strips_tags_and_unescapes():
    assert plain_text("<p>One &amp; <b>two</b></p>") == "One & two"
    assert plain_text(None) == ""


@pytest.mark.parametrize(
    "payload",
    [None, [], "x", {"name": "no id"}, {"id": 5}],
)
def test_a_neighbourhood_without_an_id_is_a_source_error(payload):
    with pytest.raises(SourceError, match=r"where\.json"):
        parse_neighbourhood(payload, "where.json")


def test_force_engagement_methods_are_kept_as_text():
    force = parse_force(
        {"id": "leicestershire", "name": "Leicestershire Police", "description": None, "url": "",
         "telephone": "0116 222 2222",
         "engagement_methods": [{"title": "Twitter", "url": "http://www.twitter.com/leicspolice",
                                 "description": "<p>Keep up to date</p>", "type": "twitter"}]},
        "t",
    )  # fmt: skip
    assert force.engagement_methods == [
        {"title": "Twitter", "url": "http://www.twitter.com/leicspolice",
         "description": "Keep up to date", "type": "twitter"}
    ]  # fmt: skip


def ring(*points):
    return [{"latitude": str(lat), "longitude": str(lng)} for lat, lng in points]


def test_boundary_points_are_lat_lng_strings_stored_as_lng_lat():
    area = parse_boundary(
        ring((51.0, -1.0), (51.0, -0.9), (51.1, -0.9), (51.1, -1.0), (51.0, -1.0)), "b"
    )
    assert isinstance(area, Polygon)
    assert area.contains(Point(-0.95, 51.05))
    assert not area.contains(Point(51.05, -0.95))


def test_a_self_intersecting_ring_is_repaired_not_dropped():
    # A bow-tie: police.uk's KML release had these.
    bowtie = ring((0, 0), (1, 1), (1, 0), (0, 1), (0, 0))
    area = parse_boundary(bowtie, "b")
    assert area.is_valid
    assert isinstance(area, MultiPolygon)
    assert area.area == pytest.approx(0.5)


@pytest.mark.parametrize(
    ("payload", "reason"),
    [
        ({"latitude": "1"}, "list of boundary points"),
        (ring((0, 0), (1, 1)), "at least three"),
        ([{"latitude": "north", "longitude": "1"}] * 4, "point 0"),
        (ring((0, 0), (0, 1), (0, 2), (0, 0)), "no area"),
        (ring((95, 0), (0, 1), (1, 1)), "point 0"),
    ],
)
def test_unusable_boundaries_are_source_errors(payload, reason):
    with pytest.raises(SourceError, match=reason):
        parse_boundary(payload, "b")


def test_nul_characters_never_reach_the_database():
    area = parse_neighbourhood({"id": "N1", "name": "Old\x00 Town", "url_force": "x\x00"}, "t")
    assert area.name == "Old Town"
    assert area.url_force == "x"


@pytest.mark.parametrize("bad_id", ["x" * 101, "N\x001"])
def test_unusable_neighbourhood_ids_are_source_errors(bad_id):
    with pytest.raises(SourceError, match="item 0"):
        parse_neighbourhood_list([{"id": bad_id, "name": "N"}], "t")
