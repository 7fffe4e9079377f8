"""The area feed: published posts, monthly crime cards, priorities and upcoming events.

Every item has a place in one total order, its key `(time, type, id)`, newest first:

- a post sits at its `published_at`;
- a crime-stats card, one per imported month of the force's data, at that month's `arrived_at`
  (when the data reached Beat, not the month it describes: that is when it is news);
- a priority at the date the team set it (police.uk's `issue-date`), or when it was synced
  if police.uk gives no date;
- an upcoming event at its start: a time in the future, so upcoming events head the feed
  (the soonest nearest the newest posts) and leave it once they begin.

A cursor names the key of the last item of a page, and the next page is the items strictly
after it in that order. Keys never change once an item exists, so posts published, cards
arriving and events announced while someone scrolls land above the cursor and can neither
shift nor repeat the pages that follow. Priorities and events are known by what they say
(their ids are digests of area, text and date), since a sync replaces the rows of an area whose
set changed; only a priority without a date moves, to the sync that replaced it.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import uuid
from collections import OrderedDict, defaultdict
from collections.abc import Hashable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import cached_property
from typing import Any, Generic, Literal, TypeVar

from tortoise import connections
from tortoise.expressions import Q
from tortoise.queryset import ValuesListQuery

from beat import crimestats
from beat.crimestats import MonthCounts
from beat.errors import Invalid, NotFound
from beat.models import (
    AreaCrimeStat,
    AreaEvent,
    CrimeMonth,
    Follow,
    Neighbourhood,
    Photo,
    Post,
    PostArea,
    Priority,
)
from beat.posts import PostView

POST, CRIME_STATS, PRIORITY, EVENT = "post", "crime_stats", "priority", "event"
TYPES = (POST, CRIME_STATS, PRIORITY, EVENT)
DEFAULT_LIMIT, MAX_LIMIT = 20, 50
CURSOR_MAX = 400
# Changes whenever the feed's JSON changes shape, so old ETags and cached pages lapse.
FORMAT = "feed-1"


# ---- positions and cursors (pure) ----------------------------------------------------------


@dataclass(frozen=True, order=True)
class Position:
    """An item's place in the feed; a larger position comes first."""

    time: datetime
    type: str
    id: str


def encode_cursor(position: Position) -> str:
    raw = json.dumps(
        [position.time.astimezone(UTC).isoformat(), position.type, position.id],
        separators=(",", ":"),
    )
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def decode_cursor(text: str) -> Position:
    """The position a cursor names; Invalid for anything this feed did not give out."""
    bad = Invalid.field("cursor", "is not a cursor from this feed: start again without one")
    if not text or len(text) > CURSOR_MAX or not text.isascii():
        raise bad
    try:
        raw = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
        time_text, kind, item_id = json.loads(raw)
        when = datetime.fromisoformat(time_text)
    except (binascii.Error, ValueError, TypeError, UnicodeDecodeError) as exc:
        raise bad from exc
    if not (isinstance(kind, str) and isinstance(item_id, str)) or kind not in TYPES:
        raise bad
    if when.tzinfo is None or not item_id.startswith(_PREFIX[kind]):
        raise bad
    if kind == POST:
        try:
            uuid.UUID(item_id.removeprefix(_PREFIX[POST]))
        except ValueError as exc:
            raise bad from exc
    return Position(when.astimezone(UTC), kind, item_id)


def parse_limit(value: str | None) -> int:
    if value is None:
        return DEFAULT_LIMIT
    if not (value.isascii() and value.isdigit()) or not 1 <= int(value) <= MAX_LIMIT:
        raise Invalid.field("limit", f"a whole number from 1 to {MAX_LIMIT}")
    return int(value)


_PREFIX = {POST: "post:", CRIME_STATS: "crime-stats:", PRIORITY: "priority:", EVENT: "event:"}


# ---- items ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class CrimeCard:
    """An area's month of crime data, as the feed shows it."""

    counts: MonthCounts
    previous_total: int | None  # None: the month before was never imported
    arrived_at: datetime


@dataclass(frozen=True)
class FeedItem:
    position: Position
    areas: tuple[Neighbourhood, ...]  # the feed's areas the item belongs to
    post: PostView | None = None
    crime_stats: CrimeCard | None = None
    priority: Priority | None = None
    event: AreaEvent | None = None

    @property
    def type(self) -> str:
        return self.position.type

    @property
    def id(self) -> str:
        return self.position.id

    @property
    def time(self) -> datetime:
        return self.position.time


@dataclass(frozen=True)
class FeedPage:
    items: list[FeedItem]
    next_cursor: str | None


# ---- the areas a feed reads, with their versions, in one query ------------------------------


@dataclass(frozen=True)
class FeedAreas:
    """The areas one feed merges, and a token that changes whenever any of their feeds does."""

    rows: tuple[dict[str, Any], ...]  # _AREA_FIELDS of each area, by force and code
    token: str

    @property
    def ids(self) -> tuple[int, ...]:
        return tuple(int(r["id"]) for r in self.rows)

    @cached_property
    def areas(self) -> tuple[Neighbourhood, ...]:
        """The areas as (unsaved) models: made only when a page is made, not for a cache hit."""
        return tuple(Neighbourhood(**row) for row in self.rows)


_AREA_FIELDS = ("id", "force_id", "code", "name", "centre_lat", "centre_lng", "updated_at")
# The hot path of every feed request, so plain SQL: a third of the ORM's cost per call.
_AREA_SQL = (
    "SELECT n.id, n.force_id, n.code, n.name, n.centre_lat, n.centre_lng, n.updated_at, "
    "v.version FROM neighbourhood n LEFT JOIN feed_version v ON v.neighbourhood_id = n.id "
    "WHERE n.force_id = {} AND n.code = {} AND n.retired_at IS NULL"
)


def _when(value: datetime | str) -> datetime:
    """A timestamp as the driver gives it (SQLite: text) as an aware datetime."""
    parsed = datetime.fromisoformat(value) if isinstance(value, str) else value
    return parsed if parsed.tzinfo is not None else parsed.replace(tzinfo=UTC)


def _feed_areas(rows: Sequence[dict[str, Any]]) -> FeedAreas:
    found, parts = [], []
    for row in sorted(rows, key=lambda r: (r["force_id"], r["code"])):
        area = {name: row[name] for name in _AREA_FIELDS}
        area["updated_at"] = _when(area["updated_at"])
        found.append(area)
        # The area's own row too: a renamed area changes every item that names it.
        parts.append(f"{area['id']}:{row['version'] or 0}:{area['updated_at'].isoformat()}")
    return FeedAreas(tuple(found), ",".join(parts))


async def area(force_id: str, code: str) -> FeedAreas:
    """One live area and its feed version (one query); NotFound for any other."""
    if len(force_id) > 64 or len(code) > 100:
        raise NotFound(f"no neighbourhood {code!r} in force {force_id!r}")
    conn = connections.get("default")
    marks = ("?", "?") if conn.capabilities.dialect == "sqlite" else ("$1", "$2")
    _, rows = await conn.execute_query(_AREA_SQL.format(*marks), [force_id, code])
    if not rows:
        raise NotFound(f"no neighbourhood {code!r} in force {force_id!r}")
    return _feed_areas([dict(r) for r in rows])


def _short(key: str) -> str:
    return key.removeprefix("neighbourhood__").replace("feed_version__", "")


async def followed(subscriber_id: int | None) -> FeedAreas:
    """The live areas a subscriber follows, and their feed versions (one query)."""
    if subscriber_id is None:
        return FeedAreas((), "")
    found = await Follow.filter(subscriber_id=subscriber_id, neighbourhood__retired_at=None).values(
        *(f"neighbourhood__{n}" for n in _AREA_FIELDS), "neighbourhood__feed_version__version"
    )
    return _feed_areas([{_short(k): v for k, v in row.items()} for row in found])


# ---- ETags and the page cache (pure) --------------------------------------------------------


def upcoming_cutoff(now: datetime) -> datetime:
    """Events starting after this are upcoming; whole minutes, so pages and ETags hold a minute."""
    return now.astimezone(UTC).replace(second=0, microsecond=0)


def etag(*parts: object) -> str:
    """A strong ETag over everything a response depends on."""
    digest = hashlib.sha256(json.dumps([FORMAT, *parts], default=str).encode()).hexdigest()
    return f'"{digest[:32]}"'


def etag_matches(if_none_match: str | None, current: str) -> bool:
    """RFC 9110 If-None-Match: weak comparison against any listed tag, or `*`."""
    if not if_none_match:
        return False
    for candidate in if_none_match.split(","):
        tag = candidate.strip()
        if tag == "*" or tag.removeprefix("W/") == current:
            return True
    return False


V = TypeVar("V")


@dataclass
class PageCache(Generic[V]):
    """A small LRU of rendered pages, each kept with the token of the feed state it shows.

    A page is served only while the token read from the database on this request is the one
    it was made with, so a change made by any process (which bumps the feed version there)
    retires this process's copy at once.
    """

    size: int = 512
    _pages: OrderedDict[Hashable, tuple[str, V]] = field(default_factory=OrderedDict)

    def get(self, key: Hashable, token: str) -> V | None:
        found = self._pages.get(key)
        if found is None or found[0] != token:
            return None
        self._pages.move_to_end(key)
        return found[1]

    def put(self, key: Hashable, token: str, value: V) -> None:
        self._pages[key] = (token, value)
        self._pages.move_to_end(key)
        while len(self._pages) > self.size:
            self._pages.popitem(last=False)

    def __len__(self) -> int:
        return len(self._pages)


# ---- building a page ------------------------------------------------------------------------


async def page(feed: FeedAreas, *, cursor: Position | None, limit: int, now: datetime) -> FeedPage:
    """One page of the merged feed of `feed.areas`, after `cursor` (None: from the top)."""
    if not feed.areas:
        return FeedPage([], None)
    cutoff = upcoming_cutoff(now)
    posts = await _post_positions(feed.ids, cursor, limit + 1)
    others = [
        item
        for item in [
            *await _crime_cards(feed.areas),
            *await _priorities(feed.areas),
            *await _events(feed.areas, cutoff),
        ]
        if cursor is None or item.position < cursor
    ]
    merged = sorted([*posts, *others], key=lambda i: i.position, reverse=True)
    shown = merged[:limit]
    next_cursor = encode_cursor(shown[-1].position) if len(merged) > limit else None
    return FeedPage(await _with_posts(shown, feed.areas), next_cursor)


def posts_query(
    area_ids: Sequence[int], cursor: Position | None, n: int
) -> ValuesListQuery[Literal[False]]:
    """The first `n` published posts of the areas after the cursor: (id, published_at), in order.

    Read from the post's area links, which carry the publication time while a post is public
    (set and cleared with its status), so one index (area, published_at, post) serves any
    area's page however many posts the other areas hold.
    """
    query = PostArea.filter(neighbourhood_id__in=list(area_ids), published_at__isnull=False)
    if cursor is not None:
        query = query.filter(_after(cursor))
    if len(area_ids) > 1:  # a post about several of the areas is linked to each
        query = query.distinct()
    return (
        query.order_by("-published_at", "-post_id").limit(n).values_list("post_id", "published_at")
    )


async def _post_positions(
    area_ids: Sequence[int], cursor: Position | None, n: int
) -> list[FeedItem]:
    """The first `n` posts after the cursor, as bare positions (their posts are loaded later)."""
    rows = await posts_query(area_ids, cursor, n)
    return [
        FeedItem(Position(when.astimezone(UTC), POST, f"{_PREFIX[POST]}{post_id}"), ())
        for post_id, when in rows
    ]


def _after(cursor: Position) -> Q:
    """Posts strictly after the cursor in feed order, as a filter on (published_at, post)."""
    if cursor.type > POST:  # at the cursor's time, posts come after its item
        return Q(published_at__lte=cursor.time)
    if cursor.type < POST:
        return Q(published_at__lt=cursor.time)
    last = uuid.UUID(cursor.id.removeprefix(_PREFIX[POST]))
    return Q(published_at__lt=cursor.time) | Q(published_at=cursor.time, post_id__lt=last)


async def _with_posts(items: list[FeedItem], areas: Sequence[Neighbourhood]) -> list[FeedItem]:
    """Load the posts a page shows, with their areas and photos, in three queries."""
    ids = [uuid.UUID(i.id.removeprefix(_PREFIX[POST])) for i in items if i.type == POST]
    if not ids:
        return items
    posts = {p.id: p for p in await Post.filter(id__in=ids)}
    tagged: dict[uuid.UUID, list[Neighbourhood]] = defaultdict(list)
    for link in await PostArea.filter(post_id__in=ids).select_related("neighbourhood"):
        tagged[link.post_id].append(link.neighbourhood)
    pictures: dict[uuid.UUID, list[Photo]] = defaultdict(list)
    for photo in await Photo.filter(post_id__in=ids).order_by("position"):
        assert photo.post_id is not None
        pictures[photo.post_id].append(photo)
    mine = {a.id: a for a in areas}
    loaded = []
    for item in items:
        if item.type != POST:
            loaded.append(item)
            continue
        post_id = uuid.UUID(item.id.removeprefix(_PREFIX[POST]))
        post = posts[post_id]
        its_areas = sorted(tagged[post_id], key=lambda n: n.name)
        view = PostView(post, its_areas, pictures[post_id])
        ours = tuple(mine[n.id] for n in its_areas if n.id in mine)
        loaded.append(FeedItem(item.position, ours, post=view))
    return loaded


async def _crime_cards(areas: Sequence[Neighbourhood]) -> list[FeedItem]:
    forces = sorted({a.force_id for a in areas})
    months: dict[str, dict[str, datetime]] = defaultdict(dict)
    for force_id, month, arrived in await CrimeMonth.filter(force_id__in=forces).values_list(
        "force_id", "month", "arrived_at"
    ):
        months[str(force_id)][str(month)] = arrived
    if not months:
        return []
    rows: dict[tuple[int, str], list[tuple[str, int]]] = defaultdict(list)
    for area_id, month, slug, n in await AreaCrimeStat.filter(
        neighbourhood_id__in=[a.id for a in areas]
    ).values_list("neighbourhood_id", "month", "category", "count"):
        rows[(int(area_id), str(month))].append((str(slug), int(n)))
    cards = []
    for area in areas:
        held = months.get(area.force_id, {})
        for month, arrived in held.items():
            counts = crimestats.counts(month, rows.get((area.id, month), []))
            before = crimestats.shift_month(month, -1)
            previous = (
                crimestats.counts(before, rows.get((area.id, before), [])).total
                if before in held
                else None
            )
            position = Position(
                arrived.astimezone(UTC),
                CRIME_STATS,
                f"{_PREFIX[CRIME_STATS]}{area.force_id}:{area.code}:{month}",
            )
            cards.append(
                FeedItem(position, (area,), crime_stats=CrimeCard(counts, previous, arrived))
            )
    return cards


def _content_id(kind: str, *parts: object) -> str:
    """An id from what an item says, not its row: syncs replace the rows of a changed set."""
    digest = hashlib.sha256(json.dumps([str(p) for p in parts]).encode()).hexdigest()[:20]
    return f"{_PREFIX[kind]}{digest}"


async def _priorities(areas: Sequence[Neighbourhood]) -> list[FeedItem]:
    by_id = {a.id: a for a in areas}
    found = await Priority.filter(neighbourhood_id__in=list(by_id)).order_by("position", "id")
    items: dict[str, FeedItem] = {}
    for p in found:
        item_id = _content_id(PRIORITY, p.neighbourhood_id, p.issue, p.issue_date)
        when = (p.issue_date or p.synced_at).astimezone(UTC)
        items.setdefault(
            item_id,
            FeedItem(Position(when, PRIORITY, item_id), (by_id[p.neighbourhood_id],), priority=p),
        )
    return list(items.values())


async def _events(areas: Sequence[Neighbourhood], cutoff: datetime) -> list[FeedItem]:
    by_id = {a.id: a for a in areas}
    found = await AreaEvent.filter(neighbourhood_id__in=list(by_id), starts_at__gt=cutoff)
    items: dict[str, FeedItem] = {}
    for event in found:
        assert event.starts_at is not None
        item_id = _content_id(EVENT, event.neighbourhood_id, event.title, event.starts_at)
        position = Position(event.starts_at.astimezone(UTC), EVENT, item_id)
        items.setdefault(item_id, FeedItem(position, (by_id[event.neighbourhood_id],), event=event))
    return list(items.values())
