"""Photos: decoded, stripped of every piece of metadata, re-encoded and stored by content hash."""

from __future__ import annotations

import asyncio
import hashlib
import io
import logging
import os
import tempfile
import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from PIL import Image, ImageCms, ImageOps, UnidentifiedImageError
from tortoise.expressions import Q

from beat.errors import Invalid, NotAllowed, NotFound
from beat.models import STAFF_ROLES, Photo, Post, Role, User
from beat.post_states import PUBLIC

log = logging.getLogger(__name__)

CONTENT_TYPE = "image/jpeg"
# Longest side of each stored size, in pixels; pictures are never enlarged.
SIZES = {"large": 2048, "thumb": 400}
JPEG_QUALITY = 85
ALT_TEXT_MAX = 1000
MAX_PER_POST = 4
# A 64-megapixel phone photo fits. Kept below Pillow's own bomb limit (about 89 million), so
# anything Pillow would only warn about is refused here before it is decoded.
MAX_PIXELS = 70_000_000
# Decided by decoding: Pillow tries only these decoders, whatever the name or declared type.
# JPEG covers MPO, the multi-picture JPEG many phone cameras write.
FORMATS = ("JPEG", "PNG", "WEBP", "GIF")
NOT_AN_IMAGE = "is not a JPEG, PNG or WebP image"
# Who may see a photo whose post is not published yet, besides its owner.
_FORCE_REVIEWERS = frozenset({Role.COMMS, Role.FORCE_ADMIN})


@dataclass(frozen=True)
class Rendered:
    """A photo re-encoded as JPEG in each stored size, named by the hash of the large one."""

    large: bytes
    thumb: bytes
    width: int
    height: int
    sha256: str


@dataclass(frozen=True)
class PhotoFile:
    """A stored file of a photo that the viewer may see, and whether anyone may."""

    path: Path
    public: bool


def check_may_upload(user: User) -> None:
    """Only police staff upload photos (checked before the upload is read, and again in ingest)."""
    if user.role not in STAFF_ROLES:
        raise NotAllowed("only police staff upload photos")


def clean_alt_text(raw: str) -> str:
    """Alt text as stored: runs of white space made one space, 1 to 1000 characters."""
    text = " ".join(raw.split())
    if not text:
        raise Invalid.field(
            "alt_text", "is required: describe the photo for people who cannot see it"
        )
    if len(text) > ALT_TEXT_MAX:
        raise Invalid.field("alt_text", f"must be at most {ALT_TEXT_MAX} characters")
    if "\x00" in text:
        raise Invalid.field("alt_text", "must not contain NUL characters")
    return text


async def ingest(
    owner: User, source: Path, *, alt_text: str, photos_dir: Path, now: datetime
) -> Photo:
    """Store the image at `source` (left in place) as a new photo of `owner`, not yet on a post."""
    check_may_upload(owner)
    text = clean_alt_text(alt_text)
    rendered, files = await asyncio.to_thread(_render_and_store, source, photos_dir)
    photo = await Photo.create(
        id=uuid.uuid4(),
        owner=owner,
        sha256=rendered.sha256,
        content_type=CONTENT_TYPE,
        width=rendered.width,
        height=rendered.height,
        files=files,
        alt_text=text,
        created_at=now,
    )
    log.info(
        "photo stored",
        extra={"photo": str(photo.id), "owner": owner.id, "sha256": rendered.sha256},
    )
    return photo


async def visible_photo(
    viewer: User | None, photo_id: uuid.UUID, size: str, photos_dir: Path
) -> PhotoFile:
    """The file of `photo_id` in `size`, if `viewer` may see it; NotFound otherwise.

    Anyone sees a photo once its post is published. Before that (and after a takedown) only
    its owner and the comms officers and administrators of the owner's force do; to anyone
    else the photo does not exist.
    """
    if size not in SIZES:
        raise NotFound(f"no photo size {size!r}: use {' or '.join(SIZES)}")
    photo = await Photo.get_or_none(id=photo_id).select_related("owner", "post")
    if photo is None:
        raise NotFound("no such photo")
    public = photo.post is not None and photo.post.status in PUBLIC
    if not public and not _may_see_unpublished(viewer, photo.owner):
        raise NotFound("no such photo")
    name = photo.files.get(size)
    path = photos_dir / name if name else None
    if path is None or not await asyncio.to_thread(path.is_file):
        log.error("photo file missing", extra={"photo": str(photo.id), "size": size})
        raise NotFound("no such photo")
    return PhotoFile(path, public)


def _may_see_unpublished(viewer: User | None, owner: User) -> bool:
    if viewer is None:
        return False
    if viewer.id == owner.id:
        return True
    return (
        viewer.role in _FORCE_REVIEWERS
        and viewer.force_id is not None
        and viewer.force_id == owner.force_id
    )


async def attach(owner: User, photo_ids: list[uuid.UUID], post: Post) -> list[Photo]:
    """Make `photo_ids`, in this order, the photos of `post`; photos it had before are let go.

    Call inside the caller's transaction. Each photo must be `owner`'s and on no other post.
    """
    if len(photo_ids) > MAX_PER_POST:
        raise Invalid.field("/photos", f"at most {MAX_PER_POST} photos")
    if len(set(photo_ids)) != len(photo_ids):
        raise Invalid.field("/photos", "give each photo once")
    found = {p.id: p for p in await Photo.filter(id__in=photo_ids, owner_id=owner.id)}
    for photo_id in photo_ids:
        photo = found.get(photo_id)
        if photo is None:
            raise Invalid.field("/photos", f"no photo {photo_id} of yours")
        if photo.post_id is not None and photo.post_id != post.id:
            raise Invalid.field("/photos", f"photo {photo_id} is already on another post")
    await Photo.filter(post_id=post.id).exclude(id__in=photo_ids).update(post_id=None, position=0)
    for position, photo_id in enumerate(photo_ids):
        # Conditional, so two posts racing for one photo cannot both have it.
        claimed = await Photo.filter(
            Q(post_id=None) | Q(post_id=post.id), id=photo_id, owner_id=owner.id
        ).update(post_id=post.id, position=position)
        if claimed != 1:
            raise Invalid.field("/photos", f"photo {photo_id} is already on another post")
        found[photo_id].post_id = post.id
        found[photo_id].position = position
    return [found[photo_id] for photo_id in photo_ids]


async def photos_of(post_ids: Iterable[uuid.UUID]) -> dict[uuid.UUID, list[Photo]]:
    """Each post's photos in order; every post asked about has an entry, maybe empty."""
    wanted = list(dict.fromkeys(post_ids))
    by_post: dict[uuid.UUID, list[Photo]] = {post_id: [] for post_id in wanted}
    if not wanted:
        return by_post
    for photo in await Photo.filter(post_id__in=wanted).order_by("position", "created_at"):
        assert photo.post_id is not None
        by_post[photo.post_id].append(photo)
    return by_post


# ---- the picture itself (runs in a worker thread) -------------------------------------------


def render(source: Path) -> Rendered:
    """Decode the file, keep only its pixels (upright, in sRGB) and encode each size as JPEG."""
    large = _decode(source)
    thumb = large.copy()
    thumb.thumbnail((SIZES["thumb"], SIZES["thumb"]), Image.Resampling.LANCZOS)
    large_bytes = _jpeg(large)
    return Rendered(
        large=large_bytes,
        thumb=_jpeg(thumb),
        width=large.width,
        height=large.height,
        sha256=hashlib.sha256(large_bytes).hexdigest(),
    )


def _decode(source: Path) -> Image.Image:
    """The first frame, no larger than the large size, upright, RGB in sRGB, without metadata."""
    try:
        with Image.open(source, formats=FORMATS) as image:
            if image.width * image.height > MAX_PIXELS:
                raise Invalid.field(
                    "file", f"has more than {MAX_PIXELS // 1_000_000} million pixels"
                )
            image.draft("RGB", (SIZES["large"], SIZES["large"]))  # JPEG: decode at 1/2, 1/4...
            image.load()  # a truncated or corrupt file fails here
            icc_profile = image.info.get("icc_profile")
            picture = _resizable(image)
            picture.thumbnail((SIZES["large"], SIZES["large"]), Image.Resampling.LANCZOS)
            picture = _upright(picture)
            picture = _srgb(picture, icc_profile)
    except Invalid:
        raise
    # Pillow raises the error above twice its limit and warns below it; tests (and anyone
    # running with -W error) see the warning raised.
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
        raise Invalid.field(
            "file", f"has more than {MAX_PIXELS // 1_000_000} million pixels"
        ) from exc
    except UnidentifiedImageError as exc:
        raise Invalid.field("file", NOT_AN_IMAGE) from exc
    except MemoryError:
        raise
    # Pillow's decoders fail on hostile input in many ways (OSError, SyntaxError, ValueError,
    # struct.error, EOFError, IndexError...); any of them means the file is not usable.
    except Exception as exc:
        log.info("photo not decodable", extra={"error": repr(exc)[:300]})
        raise Invalid.field("file", "could not be decoded: it is damaged or truncated") from exc
    # Nothing of the file's metadata may ride along: Pillow writes info's comment and XMP.
    picture.info.clear()
    return picture


def _resizable(image: Image.Image) -> Image.Image:
    """The image in a mode that resamples well: palettes and 16-bit greys are converted."""
    if image.mode in ("RGB", "RGBA", "L", "LA", "CMYK"):
        return image.copy()
    if image.mode == "I" or image.mode.startswith("I;16"):  # 16-bit PNG greys
        return image.convert("I").point(lambda v: v * (1 / 256)).convert("L")
    return image.convert("RGBA" if image.has_transparency_data else "RGB")


def _upright(picture: Image.Image) -> Image.Image:
    """Turned as the camera's orientation tag says; a broken tag leaves the picture as it is."""
    try:
        return ImageOps.exif_transpose(picture)
    except Exception:  # hostile EXIF can break the parser in many ways; orientation is optional
        log.warning("photo orientation ignored: unreadable EXIF")
        return picture


def _srgb(picture: Image.Image, icc_profile: bytes | None) -> Image.Image:
    """RGB pixels meant as sRGB: transparency laid on white, an embedded profile applied."""
    if picture.mode in ("RGBA", "LA"):
        rgba = picture.convert("RGBA")
        background = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
        picture = Image.alpha_composite(background, rgba).convert(
            "RGB" if picture.mode == "RGBA" else "L"
        )
    if icc_profile:
        try:
            converted = ImageCms.profileToProfile(
                picture,
                io.BytesIO(icc_profile),
                ImageCms.createProfile("sRGB"),
                outputMode="RGB",
            )
        except (ImageCms.PyCMSError, OSError, ValueError, TypeError):
            # A profile that does not fit the pixels: the colours may be a little off.
            log.info("photo colour profile ignored")
        else:
            if converted is not None:
                return converted
    return picture.convert("RGB")


def _jpeg(picture: Image.Image) -> bytes:
    out = io.BytesIO()
    picture.save(out, "JPEG", quality=JPEG_QUALITY, progressive=True, optimize=True, exif=b"")
    return out.getvalue()


def _render_and_store(source: Path, photos_dir: Path) -> tuple[Rendered, dict[str, str]]:
    rendered = render(source)
    sha = rendered.sha256
    files: dict[str, str] = {}
    for size, data in (("large", rendered.large), ("thumb", rendered.thumb)):
        relative = f"{sha[:2]}/{sha}-{size}.jpg"
        _write_once(photos_dir / relative, data)
        files[size] = relative
    return rendered, files


def _write_once(path: Path, data: bytes) -> None:
    """Write `data` to `path` whole or not at all; named by content, an existing file is kept."""
    if path.is_file():
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, temporary = tempfile.mkstemp(dir=path.parent, prefix=".", suffix=".part")
    try:
        with os.fdopen(fd, "wb") as out:
            out.write(data)
            out.flush()
            os.fsync(out.fileno())
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
