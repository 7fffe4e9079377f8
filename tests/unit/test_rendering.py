"""Rendering per channel: lengths as each platform counts them, threads, facets, photos, Welsh."""

from __future__ import annotations

import re
import unicodedata
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from twitter_text import extract_urls_with_indices, parse_tweet

from beat.channels import ChannelKind, Media, Part
from beat.errors import Invalid
from beat.rendering import (
    BLUESKY_MAX_BYTES,
    LIMITS,
    Message,
    bluesky_display,
    bluesky_length,
    bluesky_tags,
    graphemes,
    length,
    mastodon_length,
    render,
    x_weighted_length,
)

X, MASTODON, BLUESKY = ChannelKind.X, ChannelKind.MASTODON, ChannelKind.BLUESKY
LINK = "https://beat.police.uk/p/0f3c9a1b"
FAMILY = "\U0001f468\u200d\U0001f469\u200d\U0001f467\u200d\U0001f466"  # one grapheme, 7 code points
NUMBERING = re.compile(r"^(\d+)/(\d+) ")


def create_message(
    text: str = "Bike marking at the library on Saturday, 10am to noon.",
    *,
    text_cy: str | None = None,
    link: str = LINK,
    hashtags: list[str] | None = None,
    media: list[Media] | None = None,
) -> Message:
    return Message(
        text=text,
        text_cy=text_cy,
        link=link,
        hashtags=["#Aldersgate"] if hashtags is None else hashtags,
        media=media or [],
    )


def create_photos(count: int) -> list[Media]:
    return [
        Media(Path(f"/data/photos/{i}.jpg"), f"Photo {i}: officers at a stall")
        for i in range(count)
    ]


def words_of(text: str) -> list[str]:
    return text.split()


def body(part: Part, index: int, total: int) -> str:
    """A part's own text, without its numbering."""
    if total == 1:
        return part.text
    match = NUMBERING.match(part.text)
    assert match, part.text
    assert (int(match[1]), int(match[2])) == (index, total)
    return part.text[match.end() :]


def assert_within_limits(kind: ChannelKind, parts: list[Part]) -> None:
    for part in parts:
        assert length(kind, part.text) <= LIMITS[kind], part.text
        if kind is BLUESKY:
            assert graphemes(part.text) <= LIMITS[BLUESKY]
            assert len(part.text.encode()) <= BLUESKY_MAX_BYTES


def link_texts(part: Part) -> list[str]:
    data = part.text.encode()
    return [data[start:end].decode() for start, end, _ in part.links]


def expand_links(part: Part) -> str:
    """The part's text with each link facet's display text replaced by its whole URL."""
    data = part.text.encode()
    for start, end, url in sorted(part.links, reverse=True):
        data = data[:start] + url.encode() + data[end:]
    return data.decode()


def unrender(kind: ChannelKind, message: Message, parts: list[Part]) -> str:
    """The parts joined back without numbering, hashtags or link."""
    texts = []
    whole_trailer = " ".join([*message.hashtags, message.link])
    for index, part in enumerate(parts, start=1):
        expanded = Part(expand_links(part)) if kind is BLUESKY else part
        text = body(expanded, index, len(parts))
        if index == 1:
            assert text.endswith(whole_trailer), text
            text = text.removesuffix(whole_trailer).rstrip("\n")
        texts.append(text)
    return " ".join(texts)


def without_space(text: str) -> str:
    return "".join(text.split())


# Examples: one part


@pytest.mark.parametrize("kind", [X, MASTODON])
def test_a_short_post_is_one_part_text_then_hashtags_and_link(kind):
    message = create_message(hashtags=["#Aldersgate", "#Barbican"])

    parts = render(kind, message)

    assert parts == [
        Part(
            "Bike marking at the library on Saturday, 10am to noon.\n\n"
            "#Aldersgate #Barbican https://beat.police.uk/p/0f3c9a1b"
        )
    ]


def test_a_short_post_on_bluesky_shows_the_link_short_and_links_it_whole():
    parts = render(BLUESKY, create_message())

    assert len(parts) == 1
    assert parts[0].text == (
        "Bike marking at the library on Saturday, 10am to noon.\n\n"
        "#Aldersgate beat.police.uk/p/0f3c9a1b"
    )
    assert link_texts(parts[0]) == ["beat.police.uk/p/0f3c9a1b"]
    assert [url for _, _, url in parts[0].links] == [LINK]


def test_an_empty_text_still_posts_the_hashtags_and_link():
    assert [p.text for p in render(X, create_message("  \n "))] == [f"#Aldersgate {LINK}"]


def test_text_is_sent_as_the_platforms_keep_it_nfc_with_plain_line_endings():
    parts = render(X, create_message("Gwasanaeth y Dw\u0302r\r\nNew line\ufeff", hashtags=[]))

    assert parts[0].text == f"Gwasanaeth y D\u0175r\nNew line\n\n{LINK}"


# Examples: lengths as each platform counts them


def test_x_counts_every_url_as_23_whatever_its_length():
    long_url = "https://beat.police.uk/p/" + "a" * 200

    assert x_weighted_length(long_url) == 23
    assert x_weighted_length("https://t.co") == 23
    assert x_weighted_length(f"see {long_url} now") == 4 + 23 + 4


def test_mastodon_counts_http_urls_as_23_and_everything_else_in_graphemes():
    long_url = "https://beat.police.uk/p/" + "a" * 200

    assert mastodon_length(long_url) == 23
    assert mastodon_length(f"{FAMILY} {long_url}") == 1 + 1 + 23
    assert mastodon_length("caf\u0065\u0301") == 4


@pytest.mark.parametrize("kind", [X, MASTODON])
def test_a_long_url_does_not_make_a_post_a_thread_on_x_or_mastodon(kind):
    text = "Details: https://www.police.uk/" + "a" * 400

    parts = render(kind, create_message(text))

    assert len(parts) == 1
    assert parts[0].text.startswith(text)


def test_x_weighs_emoji_and_cjk_as_two_and_welsh_letters_as_one():
    assert x_weighted_length("\U0001f637") == 2
    assert x_weighted_length(FAMILY) == 2
    assert x_weighted_length("\U0001f1ec\U0001f1e7") == 2  # a flag
    assert x_weighted_length("警察") == 4
    assert x_weighted_length("\u0175\u0177") == 2  # ŵ ŷ
    assert x_weighted_length("w\u0302") == 1  # counted as X stores it, in NFC


def test_emoji_fill_an_x_post_twice_as_fast():
    text = " ".join(["\U0001f6b2"] * 130)  # 130 bikes: 260 + 129 spaces

    parts = render(X, create_message(text))

    assert len(parts) == 2
    assert_within_limits(X, parts)
    assert x_weighted_length(parts[0].text) > 250


def test_bluesky_counts_grapheme_clusters_not_code_points():
    assert graphemes(FAMILY) == 1
    assert graphemes("e\u0301") == 1  # e + combining acute
    assert graphemes("w\u0302y\u0302") == 2
    assert graphemes("\U0001f1ec\U0001f1e7") == 1
    assert graphemes("\U0001f44d\U0001f3fd") == 1  # skin tone


def test_a_bluesky_post_of_300_graphemes_fits_though_its_code_points_do_not():
    text = " ".join([FAMILY] * 60) + " " + "q\u0301" * 160  # 280 graphemes, 800 code points
    message = create_message(text, hashtags=[], link="https://a.uk")

    parts = render(BLUESKY, message)

    assert len(parts) == 1
    assert graphemes(parts[0].text) == 280 + 2 + len("a.uk")
    assert len(parts[0].text) > 800


def test_bluesky_parts_also_stay_under_3000_bytes():
    text = FAMILY * 200  # 200 graphemes but 5000 bytes, one word
    message = create_message(text)

    parts = render(BLUESKY, message)

    assert len(parts) > 1
    assert_within_limits(BLUESKY, parts)
    assert without_space(unrender(BLUESKY, message, parts)) == text  # no family cut apart


def test_bluesky_counts_indic_conjuncts_as_an_older_server_would():
    assert graphemes("क्षत्रिय") == 3
    assert bluesky_length("क्षत्रिय") == 5
    assert bluesky_length(FAMILY + " ŵ") == graphemes(FAMILY + " ŵ")


# Examples: threads


def test_a_long_post_is_threaded_between_words_and_numbered():
    text = " ".join(f"word{i}" for i in range(200))
    message = create_message(text)

    parts = render(X, message)

    assert len(parts) == 6
    assert [p.text.split(" ", 1)[0] for p in parts] == ["1/6", "2/6", "3/6", "4/6", "5/6", "6/6"]
    assert_within_limits(X, parts)
    assert words_of(unrender(X, message, parts)) == words_of(text)
    assert parts[0].text.endswith(f"\n\n#Aldersgate {LINK}")
    assert all(LINK not in p.text for p in parts[1:])


def test_numbering_counts_towards_the_limit():
    # With "\n\n#Aldersgate " and the link (23), 243 characters of text make exactly 280.
    exactly = ("abcd " * 48) + "abc"
    one_over = ("abcd " * 49).strip()

    assert len(render(X, create_message(exactly))) == 1
    parts = render(X, create_message(one_over))

    assert [p.text[:4] for p in parts] == ["1/2 ", "2/2 "]
    assert_within_limits(X, parts)


def test_ten_or_more_parts_are_numbered_with_the_width_counted():
    text = " ".join(f"word{i}" for i in range(600))
    message = create_message(text)

    parts = render(X, message)

    assert len(parts) >= 10
    assert parts[9].text.startswith(f"10/{len(parts)} ")
    assert_within_limits(X, parts)
    assert words_of(unrender(X, message, parts)) == words_of(text)


@pytest.mark.parametrize("kind", list(ChannelKind))
def test_a_word_longer_than_a_part_is_cut_only_as_a_last_resort(kind):
    giant = "Llanfairpwllgwyngyll" * 40
    text = f"Ward: {giant} today"
    message = create_message(text)

    parts = render(kind, message)

    assert_within_limits(kind, parts)
    assert without_space(unrender(kind, message, parts)) == without_space(text)
    assert parts[-1].text.endswith(" today")


@pytest.mark.parametrize("kind", [X, MASTODON])
def test_urls_in_the_text_are_never_cut(kind):
    urls = [f"https://www.police.uk/news/item-{i}" for i in range(60)]
    message = create_message(" ".join(f"see {url}" for url in urls))

    parts = render(kind, message)

    assert len(parts) > 1
    assert_within_limits(kind, parts)
    for url in urls:
        assert sum(re.search(rf"{re.escape(url)}(\s|$)", p.text) is not None for p in parts) == 1


def test_parts_of_a_thread_never_repeat_each_other():
    message = create_message(
        ("Lock your car. " * 18).strip(), text_cy=("Lock your car. " * 18).strip()
    )

    parts = render(X, message)

    assert len({p.text for p in parts}) == len(parts) > 2


# Examples: Bluesky link facets


def test_bluesky_link_facets_point_exactly_at_the_link_bytes():
    message = create_message(
        f"Diolch {FAMILY} i bawb yn Nhŵr y Ddinas! Adroddiad: https://www.police.uk/pu/your-area/city-of-london/. Cofion",
        hashtags=["#Aldersgate", "#Dinas"],
    )

    [part] = render(BLUESKY, message)

    assert link_texts(part) == ["www.police.uk/pu/your-area...", "beat.police.uk/p/0f3c9a1b"]
    assert [url for _, _, url in part.links] == [
        "https://www.police.uk/pu/your-area/city-of-london/",
        LINK,
    ]
    assert "Adroddiad: www.police.uk/pu/your-area.... Cofion" in part.text


def test_bluesky_facets_are_right_in_every_part_of_a_thread():
    text = " ".join(f"ŵ{i} https://www.police.uk/n/{i}" for i in range(80))
    message = create_message(text)

    parts = render(BLUESKY, message)

    assert len(parts) > 2
    facet_urls = [url for p in parts for _, _, url in p.links]
    assert sorted(facet_urls) == sorted(
        [LINK, *[f"https://www.police.uk/n/{i}" for i in range(80)]]
    )
    for part in parts:
        for (_, _, url), shown in zip(part.links, link_texts(part), strict=True):
            assert shown == bluesky_display(url)


def test_bluesky_display_keeps_the_host_and_a_short_path():
    assert bluesky_display("https://beat.example/p/abc") == "beat.example/p/abc"
    assert bluesky_display("https://beat.example/") == "beat.example"
    assert (
        bluesky_display("https://beat.example/p/0123456789abcdef") == "beat.example/p/0123456789..."
    )


def test_bluesky_tags_are_found_as_tag_facets():
    text = "Hi ŵ #Aldersgate, #123 and #Dinas"

    tags = bluesky_tags(text)

    assert [t for _, _, t in tags] == ["Aldersgate", "Dinas"]
    assert [text.encode()[s:e].decode() for s, e, _ in tags] == ["#Aldersgate", "#Dinas"]


# Examples: photos and Welsh


@pytest.mark.parametrize("kind", list(ChannelKind))
def test_photos_go_on_the_first_part_only_with_their_alt_text(kind):
    photos = create_photos(4)
    message = create_message(" ".join(["Patrol update"] * 80), media=photos)

    parts = render(kind, message)

    assert len(parts) > 1
    assert parts[0].media == photos
    assert all(m.alt_text for m in parts[0].media)
    assert all(p.media == [] for p in parts[1:])


def test_more_than_four_photos_is_refused():
    with pytest.raises(Invalid):
        render(X, create_message(media=create_photos(5)))


def test_a_link_that_is_not_an_absolute_url_is_refused():
    with pytest.raises(Invalid):
        render(MASTODON, create_message(link="/p/abc"))


@pytest.mark.parametrize("kind", list(ChannelKind))
def test_welsh_follows_the_english_in_one_numbered_thread(kind):
    message = create_message(
        "Road closed on High Street tonight.",
        text_cy="Ffordd ar gau ar y Stryd Fawr heno. Diolch am eich amynedd, ŵyr ac ŷd.",
        media=create_photos(1),
    )

    parts = render(kind, message)

    assert len(parts) == 2
    assert parts[0].text.startswith("1/2 Road closed on High Street tonight.\n\n#Aldersgate ")
    assert (
        parts[1].text
        == "2/2 Ffordd ar gau ar y Stryd Fawr heno. Diolch am eich amynedd, ŵyr ac ŷd."
    )
    assert parts[1].media == [] and parts[1].links == []


def test_a_long_welsh_version_is_threaded_after_a_long_english_one():
    english = " ".join(f"english{i}" for i in range(80))
    welsh = " ".join(f"cymraeg{i}" for i in range(80))
    message = create_message(english, text_cy=welsh)

    parts = render(MASTODON, message)

    texts = [body(p, i, len(parts)) for i, p in enumerate(parts, start=1)]
    first_welsh = next(i for i, t in enumerate(texts) if t.startswith("cymraeg0 "))
    assert first_welsh >= 2
    assert all("cymraeg" not in t for t in texts[:first_welsh])
    assert all("english" not in t for t in texts[first_welsh:])
    assert words_of(unrender(MASTODON, message, parts)) == words_of(english) + words_of(welsh)


def test_hashtags_that_cannot_fit_are_dropped_not_the_link():
    tags = [f"#Neighbourhood{i}" for i in range(40)]

    parts = render(X, create_message(hashtags=tags))

    assert_within_limits(X, parts)
    assert parts[0].text.endswith(LINK)
    assert "#Neighbourhood0 " in parts[0].text


# Properties

WORDS = st.one_of(
    st.sampled_from(
        [
            "the",
            "Aldersgate",
            "patrol",
            "ŵyr",
            "ŷd",
            "Llanfairpwll",
            "caf\u00e9",
            "cafe\u0301",
            "w\u0302",
            "\U0001f6b2",
            FAMILY,
            "\U0001f1ec\U0001f1e7",
            "\U0001f44d\U0001f3fd",
            "警察",
            "क्षत्रिय",
            "bbc.co.uk",
            "#Tag",
            "(see",
            "it).",
            "a",
            "1/2",
        ]
    ),
    st.builds(lambda n: f"https://www.police.uk/n/{n}", st.text("abc123/-", max_size=30)),
    st.builds(lambda n: "Llanfair" * n, st.integers(1, 80)),
    st.text(
        st.characters(
            exclude_categories=("Cs", "Zs", "Zl", "Zp", "Cc"),
            exclude_characters="\ufeff\ufffe\uffff\u202a\u202b\u202c\u202d\u202e",
        ),
        min_size=1,
        max_size=12,
    ),
    st.builds(
        lambda c, n: c * n,
        st.sampled_from(["e\u0301", "\u0301", FAMILY, "日"]),
        st.integers(1, 150),
    ),
)
SPACES = st.sampled_from([" ", " ", " ", "\n", "\n\n", "  "])
TEXTS = st.lists(st.tuples(WORDS, SPACES), max_size=120).map(
    lambda ws: "".join(w + s for w, s in ws)
)
SHORT_WORDS = st.text(st.sampled_from("abcŵŷé日😷"), min_size=1, max_size=15)
SHORT_TEXTS = st.lists(SHORT_WORDS, max_size=200).map(" ".join)
HASHTAGS = st.lists(
    st.sampled_from(["#Aldersgate", "#Barbican", "#Tŷ", "#CityOfLondon"]), max_size=3
)
MESSAGES = st.builds(
    Message,
    text=TEXTS,
    text_cy=st.none() | TEXTS,
    link=st.sampled_from([LINK, "https://beat.example/p/abc", "https://a.uk/p/" + "x" * 60]),
    hashtags=HASHTAGS,
    media=st.integers(0, 4).map(create_photos),
)


def nfc(text: str | None) -> str:
    return unicodedata.normalize("NFC", text or "")


@pytest.mark.parametrize("kind", list(ChannelKind))
@settings(max_examples=60, deadline=None)
@given(message=MESSAGES)
def test_every_part_fits_and_the_text_survives_in_order(kind, message):
    parts = render(kind, message)

    assert parts
    assert_within_limits(kind, parts)
    assert all(p.text.strip() for p in parts)
    assert len({p.text for p in parts}) == len(parts)
    assert parts[0].media == message.media
    assert all(p.media == [] for p in parts[1:])
    expected = without_space(nfc(message.text) + nfc(message.text_cy))
    assert without_space(unrender(kind, message, parts)) == expected
    if kind is BLUESKY:
        for part in parts:
            for (_, _, url), shown in zip(part.links, link_texts(part), strict=True):
                assert shown == bluesky_display(url)


@pytest.mark.parametrize("kind", list(ChannelKind))
@settings(max_examples=40, deadline=None)
@given(text=SHORT_TEXTS, text_cy=st.none() | SHORT_TEXTS)
def test_words_that_fit_a_part_are_never_cut(kind, text, text_cy):
    message = create_message(text, text_cy=text_cy)

    parts = render(kind, message)

    assert_within_limits(kind, parts)
    assert words_of(unrender(kind, message, parts)) == words_of(text) + words_of(text_cy or "")


@settings(max_examples=100, deadline=None)
@given(message=MESSAGES)
def test_rendering_is_deterministic(message):
    assert render(BLUESKY, message) == render(BLUESKY, message)


@settings(max_examples=50, deadline=None)
@given(text=TEXTS)
def test_x_length_is_twitter_texts_count_of_the_whole_text(text):
    assert x_weighted_length(text) == parse_tweet(text).weightedLength


@settings(max_examples=50, deadline=None)
@given(text=TEXTS)
def test_mastodon_length_is_its_count_of_the_whole_text(text):
    countable = text
    for url in reversed(extract_urls_with_indices(text, False)):
        start, end = url["indices"]
        countable = countable[:start] + "x" * 23 + countable[end:]

    assert mastodon_length(text) == graphemes(countable)
