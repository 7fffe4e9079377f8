"""Photos: what is stored (pixels only, upright, resized, by hash) and who may see it when."""

from __future__ import annotations

import hashlib
import io
import uuid
from datetime import UTC, datetime
from pathlib import Path

import pytest
from PIL import Image

from beat import photos
from beat.errors import Invalid, NotAllowed, NotFound
from beat.models import Photo, Role, User
from beat.post_states import PostStatus
from tests.helpers import create_areas, create_force, create_user
from tests.photo_helpers import (
    CAMERA_MAKE,
    CAMERA_MODEL,
    COMMENT,
    TAKEN_AT,
    camera_jpeg,
    create_post,
    encoded,
    gps_patterns,
    picture,
    png_claiming,
    png_with_text,
)

NOW = datetime(2025, 3, 1, 9, 30, tzinfo=UTC)
ALT = "Two PCs talking to shopkeepers on Cheapside"


@pytest.fixture
async def people(db, demo_areas) -> dict[str, User]:
    await create_areas(demo_areas)
    await create_force("kent", "Kent Police", teams=("K01",))
    return {
        "officer": await create_user("pc.smith@city.police.uk", Role.OFFICER),
        "colleague": await create_user("pc.jones@city.police.uk", Role.OFFICER),
        "comms": await create_user("comms@city.police.uk", Role.COMMS),
        "admin": await create_user("admin@city.police.uk", Role.FORCE_ADMIN),
        "resident": await create_user("sam@example.com", Role.RESIDENT),
        "kent-comms": await create_user("comms@kent.police.uk", Role.COMMS, force="kent"),
    }


@pytest.fixture
def photos_dir(settings) -> Path:
    return Path(settings.photos_dir)


async def ingest(owner: User, data: bytes, tmp_path: Path, photos_dir: Path, **kw) -> Photo:
    source = tmp_path / "upload.bin"
    source.write_bytes(data)
    return await photos.ingest(
        owner, source, alt_text=kw.pop("alt_text", ALT), photos_dir=photos_dir, now=NOW, **kw
    )


def stored(photos_dir: Path, photo: Photo, size: str = "large") -> Path:
    return photos_dir / photo.files[size]


# ---- what is stored ------------------------------------------------------------------------


async def test_exif_and_gps_never_reach_the_stored_files(people, tmp_path, photos_dir):
    original = camera_jpeg()
    assert b"Exif" in original and any(p in original for p in gps_patterns())  # the test's own
    photo = await ingest(people["officer"], original, tmp_path, photos_dir)
    for size in ("large", "thumb"):
        path = stored(photos_dir, photo, size)
        raw = path.read_bytes()
        with Image.open(path) as image:
            assert image.format == "JPEG"
            assert dict(image.getexif()) == {}
            assert image.getexif().get_ifd(0x8825) == {}
            assert not {"exif", "icc_profile", "comment", "xmp"} & set(image.info)
        assert b"Exif" not in raw
        assert not any(p in raw for p in gps_patterns())
        for secret in (CAMERA_MAKE, CAMERA_MODEL, TAKEN_AT):
            assert secret.encode() not in raw
        assert COMMENT not in raw
        assert b"xmpmeta" not in raw and b"PC 1234" not in raw


async def test_the_orientation_tag_is_applied_then_dropped(people, tmp_path, photos_dir):
    # Stored landscape, left half red; tag 6 says "turn 90 degrees clockwise to view".
    photo = await ingest(
        people["officer"], camera_jpeg((640, 480), orientation=6), tmp_path, photos_dir
    )
    assert (photo.width, photo.height) == (480, 640)
    with Image.open(stored(photos_dir, photo)) as image:
        assert image.size == (480, 640)
        assert 0x0112 not in image.getexif()
        red, _, blue = image.convert("RGB").getpixel((240, 20))
        assert red > 150 and blue < 100, "the red half should now be on top"
        red, _, blue = image.convert("RGB").getpixel((240, 620))
        assert blue > 150 and red < 100


async def test_a_pngs_text_chunks_are_dropped_and_transparency_is_white(
    people, tmp_path, photos_dir
):
    photo = await ingest(
        people["officer"], png_with_text(transparent_corner=True), tmp_path, photos_dir
    )
    raw = stored(photos_dir, photo).read_bytes()
    assert b"Secret Squirrel" not in raw and b"Acacia" not in raw and b"51.5155" not in raw
    with Image.open(stored(photos_dir, photo)) as image:
        assert image.format == "JPEG" and image.mode == "RGB"
        assert image.size == (300, 200)
        assert all(v > 240 for v in image.getpixel((3, 3)))
    assert photo.content_type == "image/jpeg"


@pytest.mark.parametrize(
    ("fmt", "params"),
    [("WEBP", {"quality": 90}), ("GIF", {}), ("JPEG", {"progressive": True})],
)
async def test_webp_gif_and_progressive_jpeg_are_accepted(
    people, tmp_path, photos_dir, fmt, params
):
    photo = await ingest(
        people["officer"], encoded(fmt, (320, 240), **params), tmp_path, photos_dir
    )
    with Image.open(stored(photos_dir, photo)) as image:
        assert image.format == "JPEG" and image.size == (320, 240)


def _in_mode(mode: str, fmt: str) -> bytes:
    image = picture((120, 80))
    if mode == "I;16":
        converted = Image.new("I;16", image.size)
        converted.putdata([v * 257 for v in image.convert("L").get_flattened_data()])
    elif mode == "P":
        converted = image.convert("P", palette=Image.Palette.ADAPTIVE)
        converted.info["transparency"] = 0
    else:
        converted = image.convert(mode)
    out = io.BytesIO()
    converted.save(out, fmt)
    return out.getvalue()


@pytest.mark.parametrize(
    ("mode", "fmt"),
    [
        ("L", "JPEG"),
        ("CMYK", "JPEG"),
        ("LA", "PNG"),
        ("RGBA", "WEBP"),
        ("P", "PNG"),
        ("P", "GIF"),
        ("1", "PNG"),
        ("I;16", "PNG"),
    ],
)
async def test_every_pixel_mode_becomes_an_rgb_jpeg(people, tmp_path, photos_dir, mode, fmt):
    photo = await ingest(people["officer"], _in_mode(mode, fmt), tmp_path, photos_dir)
    with Image.open(stored(photos_dir, photo)) as image:
        assert (image.format, image.mode, image.size) == ("JPEG", "RGB", (120, 80))
        # The white box in the middle stays light whatever the mode did to the colours.
        assert min(image.getpixel((60, 40))) > 200


async def test_big_pictures_are_scaled_down_and_small_ones_never_up(people, tmp_path, photos_dir):
    big = await ingest(people["officer"], encoded("JPEG", (3000, 1000)), tmp_path, photos_dir)
    assert (big.width, big.height) == (2048, 683)
    with Image.open(stored(photos_dir, big, "thumb")) as thumb:
        assert thumb.size == (400, 133)
    with Image.open(stored(photos_dir, big)) as large:
        assert large.size == (2048, 683)
        assert large.info.get("progressive") == 1
    small = await ingest(people["officer"], encoded("PNG", (300, 200)), tmp_path, photos_dir)
    assert (small.width, small.height) == (300, 200)
    with Image.open(stored(photos_dir, small, "thumb")) as thumb:
        assert thumb.size == (300, 200)


async def test_files_are_named_by_content_hash_and_shared_by_identical_uploads(
    people, tmp_path, photos_dir
):
    data = camera_jpeg()
    first = await ingest(people["officer"], data, tmp_path, photos_dir)
    second = await ingest(people["colleague"], data, tmp_path, photos_dir)
    assert first.id != second.id
    assert first.sha256 == second.sha256 and first.files == second.files
    sha = first.sha256
    assert first.files == {
        "large": f"{sha[:2]}/{sha}-large.jpg",
        "thumb": f"{sha[:2]}/{sha}-thumb.jpg",
    }
    assert hashlib.sha256(stored(photos_dir, first).read_bytes()).hexdigest() == sha
    # Nothing but the two files: no temporary files left beside them.
    assert sorted(p.name for p in (photos_dir / sha[:2]).iterdir()) == [
        f"{sha}-large.jpg",
        f"{sha}-thumb.jpg",
    ]
    assert await Photo.filter(sha256=sha).count() == 2


# ---- what is refused -----------------------------------------------------------------------


@pytest.mark.parametrize(
    "data",
    [
        b"this is a text file called photo.jpg\n" * 10,
        b"",
        encoded("BMP"),
        encoded("TIFF"),
        b"%PDF-1.7\n" + b"0" * 200,
    ],
    ids=["text", "empty", "bmp", "tiff", "pdf"],
)
async def test_anything_but_jpeg_png_webp_is_refused(people, tmp_path, photos_dir, data):
    with pytest.raises(Invalid) as caught:
        await ingest(people["officer"], data, tmp_path, photos_dir)
    assert caught.value.errors[0].field == "file"
    assert caught.value.errors[0].reason == photos.NOT_AN_IMAGE


async def test_a_truncated_jpeg_is_refused(people, tmp_path, photos_dir):
    data = camera_jpeg((800, 600))
    with pytest.raises(Invalid, match="damaged or truncated"):
        await ingest(people["officer"], data[: len(data) // 2], tmp_path, photos_dir)


@pytest.mark.parametrize(
    "size",
    [(9000, 8500), (10_000, 10_000), (30_000, 30_000)],
    ids=["over-our-limit", "pillow-warns", "pillow-refuses"],
)
async def test_decompression_bombs_are_refused_before_decoding(people, tmp_path, photos_dir, size):
    with pytest.raises(Invalid, match="million pixels"):
        await ingest(people["officer"], png_claiming(*size), tmp_path, photos_dir)
    assert not photos_dir.exists() or not any(photos_dir.iterdir())


async def test_nothing_is_stored_for_a_refused_file(people, tmp_path, photos_dir):
    with pytest.raises(Invalid):
        await ingest(people["officer"], b"not an image", tmp_path, photos_dir)
    assert await Photo.all().count() == 0


async def test_only_staff_upload_photos(people, tmp_path, photos_dir):
    with pytest.raises(NotAllowed):
        await ingest(people["resident"], camera_jpeg(), tmp_path, photos_dir)
    for staff in ("officer", "comms", "admin"):
        await ingest(people[staff], camera_jpeg(), tmp_path, photos_dir)
    assert await Photo.all().count() == 3


@pytest.mark.parametrize("alt_text", ["", "   \n\t ", "x" * 1001, "a\x00b"])
async def test_alt_text_is_required_and_bounded(people, tmp_path, photos_dir, alt_text):
    with pytest.raises(Invalid) as caught:
        await ingest(people["officer"], camera_jpeg(), tmp_path, photos_dir, alt_text=alt_text)
    assert caught.value.errors[0].field == "alt_text"


async def test_alt_text_white_space_is_tidied(people, tmp_path, photos_dir):
    photo = await ingest(
        people["officer"], camera_jpeg(), tmp_path, photos_dir, alt_text="  Two PCs\n on  patrol "
    )
    assert photo.alt_text == "Two PCs on patrol"


# ---- who sees what, when -------------------------------------------------------------------


async def test_unpublished_photos_are_seen_by_their_owner_and_their_forces_desk_only(
    people, tmp_path, photos_dir
):
    officer = people["officer"]
    photo = await ingest(officer, camera_jpeg(), tmp_path, photos_dir)
    post = await create_post(officer, PostStatus.PENDING_REVIEW)
    await photos.attach(officer, [photo.id], post)
    for who in ("officer", "comms", "admin"):
        found = await photos.visible_photo(people[who], photo.id, "large", photos_dir)
        assert found.path == stored(photos_dir, photo) and not found.public
    for viewer in (None, people["colleague"], people["resident"], people["kent-comms"]):
        with pytest.raises(NotFound):
            await photos.visible_photo(viewer, photo.id, "thumb", photos_dir)


async def test_a_photo_on_no_post_is_private_too(people, tmp_path, photos_dir):
    photo = await ingest(people["officer"], camera_jpeg(), tmp_path, photos_dir)
    with pytest.raises(NotFound):
        await photos.visible_photo(None, photo.id, "large", photos_dir)
    assert (await photos.visible_photo(people["officer"], photo.id, "large", photos_dir)).path


async def test_publication_makes_a_photo_public_and_a_takedown_private_again(
    people, tmp_path, photos_dir
):
    officer = people["officer"]
    photo = await ingest(officer, camera_jpeg(), tmp_path, photos_dir)
    post = await create_post(officer, PostStatus.SCHEDULED)
    await photos.attach(officer, [photo.id], post)
    post.status = PostStatus.PUBLISHED
    await post.save()
    for viewer in (None, people["resident"], people["kent-comms"]):
        found = await photos.visible_photo(viewer, photo.id, "thumb", photos_dir)
        assert found.public and found.path == stored(photos_dir, photo, "thumb")
    post.status = PostStatus.WITHDRAWN
    await post.save()
    with pytest.raises(NotFound):
        await photos.visible_photo(None, photo.id, "large", photos_dir)
    assert not (await photos.visible_photo(officer, photo.id, "large", photos_dir)).public


async def test_unknown_photos_and_sizes_are_not_found(people, tmp_path, photos_dir):
    photo = await ingest(people["officer"], camera_jpeg(), tmp_path, photos_dir)
    with pytest.raises(NotFound):
        await photos.visible_photo(people["officer"], photo.id, "original", photos_dir)
    with pytest.raises(NotFound):
        await photos.visible_photo(people["officer"], uuid.uuid4(), "large", photos_dir)


# ---- photos on posts -----------------------------------------------------------------------


async def test_attach_puts_photos_on_a_post_in_the_order_given(people, tmp_path, photos_dir):
    officer = people["officer"]
    taken = [
        await ingest(officer, encoded("PNG", (10 + i, 10)), tmp_path, photos_dir) for i in range(3)
    ]
    post = await create_post(officer)
    order = [taken[2].id, taken[0].id, taken[1].id]
    attached = await photos.attach(officer, order, post)
    assert [p.id for p in attached] == order
    assert [p.position for p in attached] == [0, 1, 2]
    by_post = await photos.photos_of([post.id])
    assert [p.id for p in by_post[post.id]] == order
    # Attaching again (an edit) replaces the set; the photo left out is free again.
    await photos.attach(officer, [taken[1].id], post)
    assert [p.id for p in (await photos.photos_of([post.id]))[post.id]] == [taken[1].id]
    assert (await Photo.get(id=taken[0].id)).post_id is None


async def test_attach_refuses_other_peoples_photos_used_ones_and_too_many(
    people, tmp_path, photos_dir
):
    officer, colleague = people["officer"], people["colleague"]
    mine = [
        await ingest(officer, encoded("PNG", (10 + i, 10)), tmp_path, photos_dir) for i in range(5)
    ]
    theirs = await ingest(colleague, encoded("PNG", (9, 9)), tmp_path, photos_dir)
    post, other_post = await create_post(officer), await create_post(officer)
    await photos.attach(officer, [mine[0].id], other_post)
    for ids, reason in [
        ([p.id for p in mine[1:]] + [mine[0].id], "at most 4"),
        ([theirs.id], "of yours"),
        ([uuid.uuid4()], "of yours"),
        ([mine[0].id], "another post"),
        ([mine[1].id, mine[1].id], "once"),
    ]:
        with pytest.raises(Invalid, match=reason) as caught:
            await photos.attach(officer, ids, post)
        assert caught.value.errors[0].field == "/photos"
    assert await Photo.filter(post_id=post.id).count() == 0


async def test_photos_of_gives_every_post_asked_about(people, tmp_path, photos_dir):
    officer = people["officer"]
    photo = await ingest(officer, camera_jpeg(), tmp_path, photos_dir)
    with_photo, without = await create_post(officer), await create_post(officer)
    await photos.attach(officer, [photo.id], with_photo)
    found = await photos.photos_of([with_photo.id, without.id])
    assert [p.id for p in found[with_photo.id]] == [photo.id]
    assert found[without.id] == []
    assert await photos.photos_of([]) == {}


def test_render_is_pure_and_deterministic(tmp_path):
    source = tmp_path / "a.jpg"
    source.write_bytes(camera_jpeg())
    first, second = photos.render(source), photos.render(source)
    assert first == second
    with Image.open(io.BytesIO(first.thumb)) as thumb:
        assert max(thumb.size) <= 400
