"""From an approved post to the parts each channel receives: link, area hashtags, photos."""

from __future__ import annotations

import re
from pathlib import Path

from beat import rendering
from beat.channels import ChannelKind, Media, Part
from beat.models import ChannelAccount, Neighbourhood, Photo, Post


def hashtag(name: str) -> str:
    """An area's name as a hashtag: "Farringdon Within" -> "#FarringdonWithin"."""
    words = re.findall(r"[^\W_]+", name)
    return "#" + "".join(w[:1].upper() + w[1:] for w in words) if words else ""


def post_url(base_url: str, post: Post) -> str:
    # The public page of a post (its public JSON until the web pages arrive).
    return f"{base_url.rstrip('/')}/v1/posts/{post.id}"


async def parts_for(
    account: ChannelAccount, post: Post, *, base_url: str, photos_dir: Path
) -> list[Part]:
    areas = await Neighbourhood.filter(post_areas__post_id=post.id).order_by("name")
    pictures = await Photo.filter(post_id=post.id).order_by("position")
    message = rendering.Message(
        text=post.text,
        text_cy=post.text_cy,
        link=post_url(base_url, post),
        hashtags=[tag for tag in (hashtag(a.name) for a in areas) if tag],
        media=[Media(photos_dir / p.files["large"], p.alt_text) for p in pictures],
    )
    return rendering.render(ChannelKind(account.kind), message)
