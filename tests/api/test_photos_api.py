"""POST /v1/photos and GET /v1/photos/{id}/{size} over real HTTP: uploads, limits, who sees what."""

from __future__ import annotations

import io
import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from aiohttp import FormData
from PIL import Image

from beat import photos
from beat.app import create_app
from beat.models import Photo, Role
from beat.post_states import PostStatus
from tests.helpers import bearer, create_areas, create_force, create_user
from tests.photo_helpers import (
    CAMERA_MODEL,
    camera_jpeg,
    create_post,
    encoded,
    gps_patterns,
    multipart,
    noise_png,
    png_claiming,
    upload_body,
)

OFFICER = "pc.smith@city.police.uk"
COMMS = "comms@city.police.uk"
RESIDENT = "sam@example.com"
KENT_COMMS = "comms@kent.police.uk"


@pytest.fixture
async def world(db, demo_areas):
    await create_areas(demo_areas)
    await create_force("kent", "Kent Police", teams=("K01",))
    await create_user(OFFICER, Role.OFFICER)
    await create_user(COMMS, Role.COMMS)
    await create_user(RESIDENT, Role.RESIDENT)
    await create_user(KENT_COMMS, Role.COMMS, force="kent")


async def upload(client, headers, body: tuple[bytes, str]):
    data, content_type = body
    return await client.post(
        "/v1/photos", data=data, headers={**headers, "Content-Type": content_type}
    )


def spooled(settings) -> list[Path]:
    folder = settings.photos_dir / "tmp"
    return list(folder.iterdir()) if folder.exists() else []


async def test_an_officer_uploads_a_photo_and_its_exif_is_gone(client, world, settings):
    headers = await bearer(client, OFFICER)
    response = await upload(client, headers, upload_body(camera_jpeg(), "PCs on patrol"))
    assert response.status == 201, await response.text()
    body = await response.json()
    photo_id = body["id"]
    assert body == {
        "id": photo_id,
        "width": 640,
        "height": 480,
        "alt_text": "PCs on patrol",
        "content_type": "image/jpeg",
        "urls": {
            "large": f"/v1/photos/{photo_id}/large",
            "thumb": f"/v1/photos/{photo_id}/thumb",
        },
    }
    photo = await Photo.get(id=photo_id)
    assert photo.post_id is None
    got = await client.get(body["urls"]["large"], headers=headers)
    assert got.status == 200
    assert got.content_type == "image/jpeg"
    assert got.headers["Cache-Control"] == "private, no-store"
    assert got.headers["X-Content-Type-Options"] == "nosniff"
    served = await got.read()
    assert served == (settings.photos_dir / photo.files["large"]).read_bytes()
    assert b"Exif" not in served and CAMERA_MODEL.encode() not in served
    assert not any(p in served for p in gps_patterns())
    assert spooled(settings) == []


async def test_the_clients_own_multipart_encoder_works_and_names_do_not_matter(client, world):
    # aiohttp's FormData, as an app's HTTP library would send it; a PNG called .jpg is fine.
    form = FormData()
    form.add_field("alt_text", "A lost dog found on Cheapside")
    form.add_field("file", io.BytesIO(encoded("PNG")), filename="dog.jpg", content_type="image/gif")
    response = await client.post("/v1/photos", data=form, headers=await bearer(client, OFFICER))
    assert response.status == 201, await response.text()
    assert (await response.json())["width"] == 320


async def test_a_photo_bigger_than_the_json_limit_is_fine(client, world, settings):
    data = noise_png((300, 300))
    assert len(data) > settings.max_json_body
    response = await upload(client, await bearer(client, OFFICER), upload_body(data))
    assert response.status == 201, await response.text()


async def test_the_public_sees_a_photo_only_once_its_post_is_published(client, world):
    headers = await bearer(client, OFFICER)
    body = await (await upload(client, headers, upload_body(camera_jpeg()))).json()
    owner = (await Photo.get(id=body["id"]).prefetch_related("owner")).owner
    post = await create_post(owner, PostStatus.PENDING_REVIEW)
    await photos.attach(owner, [uuid.UUID(body["id"])], post)
    url = body["urls"]["thumb"]

    assert (await client.get(url)).status == 404
    assert (await client.get(url, headers=await bearer(client, KENT_COMMS))).status == 404
    assert (await client.get(url, headers=await bearer(client, RESIDENT))).status == 404
    desk = await client.get(url, headers=await bearer(client, COMMS))
    assert desk.status == 200 and desk.headers["Cache-Control"] == "private, no-store"

    post.status = PostStatus.PUBLISHED
    await post.save()
    public = await client.get(url)
    assert public.status == 200
    assert public.headers["Cache-Control"] == "public, max-age=300"
    assert public.headers["X-Content-Type-Options"] == "nosniff"
    with Image.open(io.BytesIO(await public.read())) as thumb:
        assert thumb.format == "JPEG" and max(thumb.size) <= 400
    other_force = await client.get(url, headers=await bearer(client, KENT_COMMS))
    assert other_force.status == 200


async def test_a_resident_may_not_upload_and_nothing_is_read(client, world, settings):
    response = await upload(client, await bearer(client, RESIDENT), upload_body(camera_jpeg()))
    assert response.status == 403
    assert response.content_type == "application/problem+json"
    assert spooled(settings) == []


async def test_uploading_needs_a_sign_in(client, world):
    data, content_type = upload_body(camera_jpeg())
    response = await client.post("/v1/photos", data=data, headers={"Content-Type": content_type})
    assert response.status == 401


@pytest.mark.parametrize(
    ("parts", "field"),
    [
        ([("file", b"", "a.jpg")], "alt_text"),
        ([("alt_text", b"A photo", None)], "file"),
        ([("file", b"x", "a.jpg"), ("alt_text", b"   ", None)], "alt_text"),
        ([("file", b"x", "a.jpg"), ("alt_text", b"ok", None), ("caption", b"?", None)], "caption"),
        ([("file", b"x", "a.jpg"), ("alt_text", b"a", None), ("alt_text", b"b", None)], "alt_text"),
        ([("alt_text", b"\xff\xfe", None), ("file", b"x", "a.jpg")], "alt_text"),
        ([("alt_text", b"x" * 20_000, None)], "alt_text"),
    ],
    ids=["no-alt", "no-file", "blank-alt", "unknown-part", "twice", "not-utf8", "huge-alt"],
)
async def test_missing_unknown_and_repeated_parts_are_422(client, world, settings, parts, field):
    response = await upload(client, await bearer(client, OFFICER), multipart(parts))
    assert response.status == 422, await response.text()
    body = await response.json()
    assert body["type"] == "/problems/validation"
    assert body["errors"][0]["field"] == field
    assert spooled(settings) == []


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        (b"just some text, honestly\n" * 40, "is not a JPEG, PNG or WebP image"),
        (camera_jpeg((800, 600))[:5000], "damaged or truncated"),
        (png_claiming(30_000, 30_000), "million pixels"),
        (png_claiming(10_000, 10_000), "million pixels"),
    ],
    ids=["text-called-jpg", "truncated", "bomb", "bomb-pillow-warns-about"],
)
async def test_files_that_are_not_usable_images_are_422(client, world, settings, data, reason):
    response = await upload(client, await bearer(client, OFFICER), upload_body(data))
    assert response.status == 422
    body = await response.json()
    assert body["errors"] == [{"field": "file", "reason": body["errors"][0]["reason"]}]
    assert reason in body["errors"][0]["reason"]
    assert spooled(settings) == []
    assert await Photo.all().count() == 0


async def test_a_body_that_is_not_multipart_is_415(client, world):
    response = await client.post(
        "/v1/photos", json={"file": "aGVsbG8="}, headers=await bearer(client, OFFICER)
    )
    assert response.status == 415
    assert (await response.json())["type"] == "/problems/unsupported-media-type"


@pytest.mark.parametrize(
    ("data", "content_type"),
    [
        (b"--x\r\nno headers end", "multipart/form-data; boundary=x"),
        (b"anything", "multipart/form-data"),
        (b"no boundary anywhere", "multipart/form-data; boundary=b"),
        (
            b"--b\r\nContent-Disposition: form-data\r\n\r\nnameless\r\n--b--\r\n",
            "multipart/form-data; boundary=b",
        ),
    ],
    ids=["cut-short", "no-boundary-parameter", "no-boundary-in-body", "nameless-part"],
)
async def test_a_malformed_multipart_body_is_400(client, world, settings, data, content_type):
    response = await client.post(
        "/v1/photos",
        data=data,
        headers={**await bearer(client, OFFICER), "Content-Type": content_type},
    )
    assert response.status == 400, await response.text()
    assert (await response.json())["type"] == "/problems/bad-request"
    assert spooled(settings) == []


@pytest.fixture
async def small_limit_client(aiohttp_client, settings, clock, db):
    """The app with a 100 KiB photo limit."""
    app = create_app(settings.with_overrides(max_photo_bytes=100 * 1024), clock=clock)
    return await aiohttp_client(app)


async def test_a_photo_over_the_limit_is_413_whatever_the_length_header_says(
    small_limit_client, world, settings
):
    client = small_limit_client
    headers = await bearer(client, OFFICER)
    data, content_type = upload_body(noise_png((400, 400)))  # about 480 KB
    # With Content-Length: refused before the body is read.
    response = await upload(client, headers, (data, content_type))
    assert response.status == 413
    assert (await response.json())["type"] == "/problems/body-too-large"

    # Chunked, with no length given: counted while it streams in, the spool file removed.
    async def chunks() -> AsyncIterator[bytes]:
        for start in range(0, len(data), 32 * 1024):
            yield data[start : start + 32 * 1024]

    response = await client.post(
        "/v1/photos", data=chunks(), headers={**headers, "Content-Type": content_type}
    )
    assert response.status == 413
    assert "larger than 102400 bytes" in (await response.json())["detail"]
    assert spooled(settings) == []
    assert await Photo.all().count() == 0


async def test_a_photo_just_under_the_limit_is_accepted(small_limit_client, world):
    data = noise_png((150, 150))  # about 68 KB
    assert len(data) < 100 * 1024
    response = await upload(
        small_limit_client, await bearer(small_limit_client, OFFICER), upload_body(data)
    )
    assert response.status == 201


@pytest.mark.parametrize(
    "path",
    [
        "/v1/photos/not-a-uuid/large",
        f"/v1/photos/{uuid.uuid4()}/large",
        f"/v1/photos/{{{uuid.uuid4()}}}/large",
        f"/v1/photos/{uuid.uuid4().hex}/thumb",
    ],
)
async def test_unknown_or_malformed_photo_ids_are_404(client, world, path):
    response = await client.get(path)
    assert response.status == 404
    assert response.content_type == "application/problem+json"


async def test_an_unknown_size_is_404(client, world):
    headers = await bearer(client, OFFICER)
    body = await (await upload(client, headers, upload_body(camera_jpeg()))).json()
    response = await client.get(f"/v1/photos/{body['id']}/original", headers=headers)
    assert response.status == 404


async def test_a_bad_token_on_a_photo_is_401_not_public(client, world):
    response = await client.get(
        f"/v1/photos/{uuid.uuid4()}/large", headers={"Authorization": "Bearer nonsense"}
    )
    assert response.status == 401
