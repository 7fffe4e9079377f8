"""An area's feed as Atom 1.0 (RFC 4287): its published posts and monthly crime summaries."""

from __future__ import annotations

import re
import uuid
import xml.etree.ElementTree as ET
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from urllib.parse import quote

from beat import crimestats
from beat.feed import CRIME_STATS, POST, FeedItem
from beat.models import Neighbourhood

ATOM_NS = "http://www.w3.org/2005/Atom"
MEDIA_TYPE = "application/atom+xml"
TITLE_MAX = 80
# XML 1.0 allows tab, newline, carriage return and the rest of Unicode minus surrogates
# and U+FFFE/U+FFFF; anything else (a stray control character in a post) would make the
# whole document unreadable, so it is dropped.
_NOT_XML = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


@dataclass(frozen=True)
class AtomArea:
    """What the feed says about its area and where it lives."""

    area: Neighbourhood
    force_name: str
    base_url: str  # the service as reached from outside, e.g. https://beat.example.org


def rfc3339(value: datetime) -> str:
    return value.astimezone(UTC).isoformat().replace("+00:00", "Z")


def xml_text(value: str) -> str:
    return _NOT_XML.sub("", value)


def _stable_id(base_url: str, path: str) -> str:
    """A urn:uuid derived from the service and a path: the same for ever for the same thing."""
    return f"urn:uuid:{uuid.uuid5(uuid.NAMESPACE_URL, base_url.rstrip('/') + path)}"


def area_path(area: Neighbourhood) -> str:
    return f"/areas/{quote(area.force_id, safe='')}/{quote(area.code, safe='')}"


def _title(text: str) -> str:
    first = " ".join(xml_text(text).split())
    return first if len(first) <= TITLE_MAX else first[: TITLE_MAX - 1].rstrip() + "…"


def _sub(parent: ET.Element, tag: str, text: str | None = None, **attrs: str) -> ET.Element:
    element = ET.SubElement(parent, f"{{{ATOM_NS}}}{tag}", attrs)
    if text is not None:
        element.text = xml_text(text)
    return element


def _month_name(month: str) -> str:
    return datetime(int(month[:4]), int(month[5:7]), 1, tzinfo=UTC).strftime("%B %Y")


def render(where: AtomArea, items: Sequence[FeedItem]) -> bytes:
    """The Atom document (UTF-8) for the feed items that are posts or crime summaries."""
    ET.register_namespace("", ATOM_NS)
    base = where.base_url.rstrip("/")
    area, path = where.area, area_path(where.area)
    entries = [i for i in items if i.type in (POST, CRIME_STATS)]
    root = ET.Element(f"{{{ATOM_NS}}}feed", {"{http://www.w3.org/XML/1998/namespace}lang": "en-GB"})
    _sub(root, "id", _stable_id(base, path))
    _sub(root, "title", f"{area.name} ({where.force_name}): neighbourhood policing updates")
    _sub(
        root,
        "subtitle",
        f"Updates from the {where.force_name} team for {area.name}, and each month's "
        "police.uk crime figures for the area.",
    )
    newest = max((_updated(i) for i in entries), default=area.updated_at)
    _sub(root, "updated", rfc3339(newest))
    author = _sub(root, "author")
    _sub(author, "name", where.force_name)
    _sub(root, "link", rel="self", type=MEDIA_TYPE, href=f"{base}{path}/feed.atom")
    _sub(root, "link", rel="alternate", type="application/json", href=f"{base}/v1{path}/feed")
    _sub(root, "rights", crimestats.ATTRIBUTION)
    _sub(root, "generator", "Beat")
    for item in entries:
        if item.post is not None:
            _post_entry(root, base, item)
        elif item.crime_stats is not None:
            _crime_entry(root, base, path, area, item)
    tree = ET.ElementTree(root)
    ET.indent(tree)
    document: bytes = ET.tostring(root, encoding="utf-8", xml_declaration=True)
    return document + b"\n"


def _updated(item: FeedItem) -> datetime:
    return item.time


def _post_entry(root: ET.Element, base: str, item: FeedItem) -> None:
    assert item.post is not None
    post = item.post.post
    entry = _sub(root, "entry")
    _sub(entry, "id", f"urn:uuid:{post.id}")
    _sub(entry, "title", _title(post.text))
    _sub(entry, "updated", rfc3339(item.time))
    _sub(entry, "published", rfc3339(item.time))
    _sub(entry, "link", rel="alternate", type="application/json", href=f"{base}/v1/posts/{post.id}")
    _sub(entry, "category", term=post.kind)
    for area in item.post.areas:
        _sub(entry, "category", term=f"{area.force_id}/{area.code}", label=area.name)
    text = post.text if not post.text_cy else f"{post.text}\n\n{post.text_cy}"
    if post.location_label:
        text = f"{text}\n\n{post.location_label}"
    for photo in item.post.photos:
        _sub(
            entry,
            "link",
            rel="enclosure",
            type="image/jpeg",
            href=f"{base}/v1/photos/{photo.id}/large",
            title=xml_text(photo.alt_text),
        )
    _sub(entry, "content", text, type="text")


def _crime_entry(
    root: ET.Element, base: str, path: str, area: Neighbourhood, item: FeedItem
) -> None:
    card = item.crime_stats
    assert card is not None
    month = card.counts.month
    entry = _sub(root, "entry")
    _sub(entry, "id", _stable_id(base, f"{path}/crime-stats/{month}"))
    _sub(
        entry,
        "title",
        f"Crime and anti-social behaviour in {area.name}, {_month_name(month)}: "
        f"{card.counts.total} recorded",
    )
    _sub(entry, "updated", rfc3339(item.time))
    _sub(
        entry,
        "link",
        rel="alternate",
        type="application/json",
        href=f"{base}/v1{path}/crime-stats?month={month}",
    )
    _sub(entry, "category", term="crime-stats")
    lines = [
        f"{crimestats.CATEGORIES.get(slug, slug)}: {n}"
        for slug, n in sorted(card.counts.by_category.items(), key=lambda kv: (-kv[1], kv[0]))
        if n
    ]
    if card.previous_total is not None:
        lines.append(f"The month before: {card.previous_total}.")
    lines += ["", crimestats.APPROXIMATE, crimestats.ATTRIBUTION]
    _sub(entry, "content", "\n".join(lines), type="text")
    _sub(entry, "rights", crimestats.ATTRIBUTION)
