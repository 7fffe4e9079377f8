"""How an approved post reads on X, Mastodon and Bluesky: measured as each counts, threaded."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any
from urllib.parse import urlsplit

import regex
from twitter_text import (  # type: ignore[import-untyped]
    extract_urls_with_indices,
    parse_tweet,
)

from beat.channels import ChannelKind, Media, Part
from beat.errors import Invalid

LIMITS: Mapping[ChannelKind, int] = MappingProxyType(
    {ChannelKind.X: 280, ChannelKind.MASTODON: 500, ChannelKind.BLUESKY: 300}
)
# Bluesky's post record also caps the text at 3000 UTF-8 bytes (app.bsky.feed.post).
BLUESKY_MAX_BYTES = 3000
# X (t.co) and Mastodon count every link as this many characters, whatever its length.
URL_LENGTH = 23
MAX_PHOTOS = 4  # the same on all three platforms

_GRAPHEME = regex.compile(r"\X")
_TOKEN = re.compile(r"\S+")
_PIECE = re.compile(r"\S+|\s+")
_LONG_WORD = 100  # characters: beyond this, twitter-text is counted word by word
_NUMBERING = "{index}/{total} "
# twitter-text refuses these (byte-order marks, non-characters, bidi embeddings/overrides).
_INVALID_CHARACTERS = re.compile("[\ufeff\ufffe\uffff\u202a-\u202e]")
# The Bluesky app links any http(s) URL that follows a space, an opening bracket or the start.
_BLUESKY_URL = re.compile(r"(?<![^\s(])https?://\S+")
_URL_TRAILING_PUNCTUATION = ".,;:!?\"'"
# Indic scripts (Devanagari to Sinhala), where Unicode 15.1 made conjuncts one grapheme (GB9c).
_INDIC_LETTER = regex.compile(r"[\u0900-\u0dff&&\p{Lo}]", flags=regex.V1)
_WIDEST_NUMBERING = 7  # digits: a thread of ten million parts is not a post


@dataclass(frozen=True)
class Message:
    """An approved post as every channel receives it, before rendering."""

    text: str  # English text as approved
    text_cy: str | None  # Welsh version if any: goes out with the English one
    link: str  # absolute URL of the post's public page
    hashtags: list[str]  # area hashtags, e.g. ["#Aldersgate"], already made safe by the caller
    media: list[Media] = field(default_factory=list)  # 0-4 photos, each with alt text


def x_weighted_length(text: str) -> int:
    """The length X counts: most characters 1, CJK and emoji 2, every URL 23 (twitter-text v3)."""
    if not _has_long_word(text):
        return _parsed_length(text)
    # twitter-text's URL search takes time growing with the square of a word's length. No URL
    # or emoji spans white space, so counting word by word gives the same, in linear time.
    return sum(_parsed_length(piece) for piece in _PIECE.findall(text))


def _parsed_length(text: str) -> int:
    result: Any = parse_tweet(text)
    return int(result.weightedLength)


def _has_long_word(text: str) -> bool:
    return any(len(word) > _LONG_WORD for word in text.split())


def graphemes(text: str) -> int:
    """The number of grapheme clusters (user-perceived characters), by current Unicode rules."""
    return sum(1 for _ in _GRAPHEME.finditer(text))


def mastodon_length(text: str) -> int:
    """The length Mastodon counts: grapheme clusters, with each http(s) URL counted as 23."""
    pieces: list[str] = []
    last = 0
    for url in _urls(text, with_protocol_only=True):
        start, end = url
        pieces += [text[last:start], "x" * URL_LENGTH]
        last = end
    pieces.append(text[last:])
    return graphemes("".join(pieces))


def bluesky_length(text: str) -> int:
    """Graphemes as a Bluesky server may count them: never fewer than `graphemes(text)`.

    Servers segment with whatever their runtime ships; one that predates Unicode 15.1 splits
    Indic conjuncts (क्ष is 2 there, 1 here), so each extra Indic letter in a cluster counts 1.
    """
    total = 0
    for cluster in _GRAPHEME.findall(text):
        total += 1 + len(_INDIC_LETTER.findall(cluster, pos=1))
    return total


def length(kind: ChannelKind, text: str) -> int:
    """The length `kind` counts for `text`, to compare with `LIMITS[kind]`."""
    if kind is ChannelKind.X:
        return x_weighted_length(text)
    if kind is ChannelKind.MASTODON:
        return mastodon_length(text)
    return bluesky_length(text)


def fits(kind: ChannelKind, text: str) -> bool:
    """Whether `text` may be posted as it stands on `kind`."""
    return _within(_measure(kind, text), _limits(kind))


def render(kind: ChannelKind, message: Message) -> list[Part]:
    """The message as one part, or as a numbered thread of parts, for `kind`.

    One part if everything fits: the text, a blank line, the hashtags and the link. Otherwise
    a thread "1/3 ...", "2/3 ...", split between words. The numbers lead, where a timeline
    shows them even when it cuts the end of a long post short. The hashtags, the link and the
    photos go on the FIRST part: it is the one people see in timelines, searches and link
    previews, the one quoted and shared, and the one surely out if a thread fails half-way;
    replies further down are often never opened. A Welsh version follows the English in the
    same thread, numbered within the whole. On Bluesky every URL is shown short
    (`host/path...`, as the Bluesky app shows it) and carried whole in a link facet.
    """
    if len(message.media) > MAX_PHOTOS:
        raise Invalid.field("media", f"at most {MAX_PHOTOS} photos")
    if not re.fullmatch(r"https?://\S+", message.link):
        raise Invalid.field("link", "must be an absolute http(s) URL")
    gauge = _Gauge(kind)
    english = _body(kind, _clean(message.text))
    welsh_text = _clean(message.text_cy or "")
    welsh = _body(kind, welsh_text) if welsh_text else None

    if welsh is None:
        trailer = _trailer(kind, message, "", gauge)
        text, links = _assemble("", english, (0, len(english.text)), trailer)
        if gauge.fits(text):
            return [Part(text, list(message.media), links)]

    for width in range(1, _WIDEST_NUMBERING + 1):
        widest = _NUMBERING.format(index="9" * width, total="9" * width)
        trailer = _trailer(kind, message, widest, gauge)
        spans = [(english, span) for span in _split(english, gauge, widest, trailer)]
        if welsh is not None:
            spans += [(welsh, span) for span in _split(welsh, gauge, widest, _NO_TRAILER)]
        if len(str(len(spans))) > width:
            continue
        parts = []
        for index, (body, span) in enumerate(spans, start=1):
            prefix = _NUMBERING.format(index=index, total=len(spans))
            text, links = _assemble(prefix, body, span, trailer if index == 1 else _NO_TRAILER)
            parts.append(Part(text, list(message.media) if index == 1 else [], links))
        # Real numbers are never wider than the widest ones measured; check all the same.
        if all(gauge.fits(p.text) for p in parts):
            # Numbering makes thread parts differ: X refuses a post identical to a recent one.
            assert len({p.text for p in parts}) == len(parts)
            return parts
    raise AssertionError("no numbering width made every part fit")  # pragma: no cover


def bluesky_tags(text: str) -> list[tuple[int, int, str]]:
    """Hashtags in `text` as Bluesky tag facets: (byte_start, byte_end, tag without '#').

    Bluesky does not find hashtags itself: a `#tag` is only a tag with a facet like this.
    """
    tags = []
    for match in regex.finditer(r"(?<!\S)[#\uff03](\S+)", text):
        tag = regex.sub(r"\p{P}+$", "", match.group(1))
        if not tag or tag.isdigit() or graphemes(tag) > 64:
            continue
        start = match.start()
        end = match.start(1) + len(tag)
        tags.append((_byte_offset(text, start), _byte_offset(text, end), tag))
    return tags


@dataclass(frozen=True)
class _Body:
    """Text to be split, with the spans that must not be split and Bluesky's link spans."""

    text: str
    unbreakable: tuple[tuple[int, int], ...] = ()
    links: tuple[tuple[int, int, str], ...] = ()  # character offsets into `text`


_NO_TRAILER = _Body("")


def _clean(text: str) -> str:
    """The text as the platforms keep it, so that what we measure is what they count.

    X stores NFC and would not match a lookup for our decomposed text (Channel.find).
    """
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    text = _INVALID_CHARACTERS.sub("", text)
    return unicodedata.normalize("NFC", text).strip()


def _urls(text: str, *, with_protocol_only: bool) -> list[tuple[int, int]]:
    """Spans of the URLs twitter-text finds, with or without "https://"."""

    def search(text: str) -> list[tuple[int, int]]:
        found: Any = extract_urls_with_indices(text, not with_protocol_only)
        return [(int(u["indices"][0]), int(u["indices"][1])) for u in found]

    if not _has_long_word(text):
        return search(text)
    # Word by word, as in x_weighted_length; a URL has a dot in its host.
    return [
        (word.start() + start, word.start() + end)
        for word in _TOKEN.finditer(text)
        if "." in word.group()
        for start, end in search(word.group())
    ]


def _body(kind: ChannelKind, text: str) -> _Body:
    if kind is not ChannelKind.BLUESKY:
        return _Body(text, tuple(_urls(text, with_protocol_only=False)))
    # Bluesky shows no URL as a link unless a facet says so: show each short, link it whole.
    out: list[str] = []
    links: list[tuple[int, int, str]] = []
    last = 0
    size = 0
    for match in _BLUESKY_URL.finditer(text):
        url = _trim_url(match.group())
        out.append(text[last : match.start()])
        size += match.start() - last
        display = bluesky_display(url)
        links.append((size, size + len(display), url))
        out.append(display)
        size += len(display)
        last = match.start() + len(url)
    out.append(text[last:])
    return _Body("".join(out), tuple((s, e) for s, e, _ in links), tuple(links))


def _trim_url(url: str) -> str:
    while url and url[-1] in _URL_TRAILING_PUNCTUATION:
        url = url[:-1]
    if url.endswith(")") and "(" not in url:
        url = url[:-1]
    return url


def bluesky_display(url: str) -> str:
    """How Bluesky shows a link: host and path without the scheme, a long path cut short."""
    parts = urlsplit(url)
    host = parts.netloc.rpartition("@")[2]
    path = parts.path if parts.path != "/" else ""
    path += f"?{parts.query}" if parts.query else ""
    path += f"#{parts.fragment}" if parts.fragment else ""
    clusters = _GRAPHEME.findall(path)
    # The Bluesky app's own rule: a path over 15 characters shows its first 13 and "...".
    if len(clusters) > 15:
        path = "".join(clusters[:13]) + "..."
    display = host + path
    clusters = _GRAPHEME.findall(display)
    if len(clusters) > 60:  # an absurd host: keep the part comfortably inside any post
        display = "".join(clusters[:57]) + "..."
    return display or url


def _trailer(kind: ChannelKind, message: Message, prefix: str, gauge: _Gauge) -> _Body:
    """Hashtags and the link, dropping hashtags from the end if they would not fit a part."""
    tags = [t.strip() for t in message.hashtags if t.strip()]
    links: tuple[tuple[int, int, str], ...] = ()
    link_text = message.link
    if kind is ChannelKind.BLUESKY:
        display = bluesky_display(message.link)
        link_text, links = display, ((0, len(display), message.link),)
    for keep in range(len(tags), -1, -1):
        head = " ".join(tags[:keep])
        text = f"{head} {link_text}" if head else link_text
        offset = len(text) - len(link_text)
        if gauge.fits(prefix + text):
            return _Body(text, links=tuple((offset + s, offset + e, u) for s, e, u in links))
    raise Invalid.field("link", f"too long to post on {kind.value}")


_Size = tuple[int, ...]  # what a channel counts: (length,), or (graphemes, bytes) on Bluesky


def _measure(kind: ChannelKind, text: str) -> _Size:
    if kind is ChannelKind.BLUESKY:
        return (bluesky_length(text), len(text.encode()))
    return (length(kind, text),)


def _limits(kind: ChannelKind) -> _Size:
    if kind is ChannelKind.BLUESKY:
        return (LIMITS[kind], BLUESKY_MAX_BYTES)
    return (LIMITS[kind],)


def _within(size: _Size, limits: _Size) -> bool:
    return all(a <= b for a, b in zip(size, limits, strict=True))


def _plus(*sizes: _Size) -> _Size:
    return tuple(map(sum, zip(*sizes, strict=True)))


def _minus(size: _Size, other: _Size) -> _Size:
    return tuple(a - b for a, b in zip(size, other, strict=True))


class _Gauge:
    """One channel's measure, remembered per piece of text while one message is rendered.

    Parts are filled by adding up the sizes of their words and spaces, each measured once,
    then measured whole: a platform counts the whole text, and adding up may be slightly off
    (a space followed by an accent is one grapheme, for one).
    """

    def __init__(self, kind: ChannelKind) -> None:
        self.kind = kind
        self.limits = _limits(kind)
        self.zero: _Size = tuple(0 for _ in self.limits)
        self._sizes: dict[str, _Size] = {}

    def size(self, text: str) -> _Size:
        if text not in self._sizes:
            self._sizes[text] = _measure(self.kind, text)
        return self._sizes[text]

    def fits(self, text: str) -> bool:
        return _within(_measure(self.kind, text), self.limits)

    def room(self, prefix: str, tail: str) -> _Size:
        """What is left for the body of a part with this numbering and trailer."""
        used = self.size(prefix)
        if tail:
            used = _plus(used, self.size("\n\n"), self.size(tail))
        return _minus(self.limits, used)


def _join(body: str, trailer: str) -> str:
    if body and trailer:
        return f"{body}\n\n{trailer}"
    return body or trailer


def _split(body: _Body, gauge: _Gauge, prefix: str, trailer: _Body) -> list[tuple[int, int]]:
    """Spans of `body.text`, one per part, each part as full as it can be.

    Parts break between words; a word too long for a part of its own is cut between
    graphemes (never inside a URL), and a grapheme too long for one, between code points.
    The first part also carries `trailer` (an empty span if only the trailer is left to send).
    """
    text = body.text
    tokens = [m.span() for m in _TOKEN.finditer(text)]
    spans: list[tuple[int, int]] = []
    pos = 0
    t = 0
    while True:
        first = not spans
        tail = trailer.text if first else ""
        while t < len(tokens) and tokens[t][1] <= pos:
            t += 1
        if t == len(tokens):
            if first and tail:
                spans.append((pos, pos))
            return spans
        start = max(pos, tokens[t][0])
        room = gauge.room(prefix, tail)

        def ok(end: int, start: int = start, tail: str = tail) -> bool:
            return gauge.fits(prefix + _join(text[start:end], tail))

        ends: list[int] = []
        size = gauge.size(text[start : tokens[t][1]])
        for j in range(t, len(tokens)):
            if j > t:
                space = text[tokens[j - 1][1] : tokens[j][0]]
                size = _plus(size, gauge.size(space), gauge.size(text[slice(*tokens[j])]))
            if not _within(size, room):
                break
            ends.append(tokens[j][1])
        end = _furthest(ends, ok)
        if end is None and first and tail and gauge.fits(prefix + text[start : tokens[t][1]]):
            end = start  # the word fits a part of its own but not beside the trailer
        if end is None:
            end = _hard_cut(body, gauge, start, tokens[t][1], room, ok)
        if end is None:
            if not (first and tail):
                raise AssertionError("a single character does not fit a part")  # pragma: no cover
            end = start  # not a character fits beside the trailer: it goes alone
        spans.append((start, end))
        pos = end


def _hard_cut(
    body: _Body, gauge: _Gauge, start: int, end: int, room: _Size, ok: Callable[[int], bool]
) -> int | None:
    """The furthest place inside the too-long word text[start:end] where a part may end."""
    text = body.text
    bounds = [
        m.end()
        for m in _GRAPHEME.finditer(text, pos=start, endpos=end)
        if not any(s < m.end() < e for s, e in body.unbreakable)
    ]
    cuts: list[int] = []
    size = gauge.zero
    last = start
    for cut in bounds[:-1]:
        size = _plus(size, gauge.size(text[last:cut]))
        if not _within(size, room):
            break
        cuts.append(cut)
        last = cut
    found = _furthest(cuts, ok)
    if found is None:  # not even the first grapheme (or URL) fits: cut it between code points
        found = _furthest(range(start + 1, bounds[0]), ok)
    return found


def _furthest(candidates: Sequence[int], ok: Callable[[int], bool]) -> int | None:
    """The last of `candidates` (ever longer parts) that is ok; only ever one checked ok.

    The last is nearly always right, since candidates were chosen by adding up sizes; if not,
    bisect, which is sound because a longer part is never shorter.
    """
    if not candidates:
        return None
    if ok(candidates[-1]):
        return candidates[-1]
    if not ok(candidates[0]):
        return None
    low, high = 0, len(candidates) - 2
    while low < high:
        middle = (low + high + 1) // 2
        if ok(candidates[middle]):
            low = middle
        else:
            high = middle - 1
    return candidates[low]


def _assemble(
    prefix: str, body: _Body, span: tuple[int, int], trailer: _Body
) -> tuple[str, list[tuple[int, int, str]]]:
    """The text of one part, and its link spans in UTF-8 byte offsets."""
    start, end = span
    chunk = body.text[start:end]
    links = [
        (len(prefix) + s - start, len(prefix) + e - start, url)
        for s, e, url in body.links
        if start <= s and e <= end
    ]
    text = prefix + _join(chunk, trailer.text)
    offset = len(text) - len(trailer.text)
    links += [(offset + s, offset + e, url) for s, e, url in trailer.links]
    return text, [(_byte_offset(text, s), _byte_offset(text, e), url) for s, e, url in links]


def _byte_offset(text: str, index: int) -> int:
    return len(text[:index].encode())
