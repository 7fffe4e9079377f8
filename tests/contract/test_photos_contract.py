"""The photo routes through the validating client: multipart uploads, JPEG answers, problems.

openapi-core reads multipart/form-data bodies (with the standard library's e-mail parser), so
uploads are checked against `PhotoUpload` like any JSON body; the bodies are built by hand so
the test knows exactly what went over the wire.
"""

from __future__ import annotations

import uuid
from typing import Any

import pytest

from beat import photos
from beat.app import create_app
from beat.models import Photo, Role
from beat.post_states import PostStatus
from tests.contract.validating import ContractClient, Reply, WireRequest
from tests.helpers import PASSWORD, create_areas, create_user
from tests.photo_helpers import (
    camera_jpeg,
    create_post,
    encoded,
    multipart,
    noise_png,
    upload_body,
)

OFFICER = "pc.smith@example.police.uk"
RESIDENT = "sam@example.com"
PHOTO_KEYS = {"id", "width", "height", "alt_text", "content_type", "urls"}


@pytest.fixture
async def world(db, demo_areas) -> None:
    await create_areas(demo_areas)
    await create_user(OFFICER, Role.OFFICER)
    await create_user(RESIDENT, Role.RESIDENT)


async def token_for(api: ContractClient, email: str) -> str:
    reply = await api.post("/v1/auth/login", json_body={"email": email, "password": PASSWORD})
    assert reply.status == 200
    return str(reply.json["access_token"])


async def send(api: ContractClient, body: tuple[bytes, str], token: str | None, **kw: Any) -> Reply:
    data, content_type = body
    return await api.post(
        "/v1/photos", data=data, headers={"Content-Type": content_type}, token=token, **kw
    )


async def test_an_upload_and_its_files_are_as_the_contract_says(contract_client, world):
    token = await token_for(contract_client, OFFICER)
    reply = await send(contract_client, upload_body(camera_jpeg()), token)
    assert reply.status == 201
    assert set(reply.json) == PHOTO_KEYS
    for size in ("large", "thumb"):
        got = await contract_client.get(reply.json["urls"][size], token=token)
        assert got.status == 200
        assert got.content_type == "image/jpeg"
        assert got.headers["Cache-Control"] == "private, no-store"
        assert got.body[:3] == b"\xff\xd8\xff"
    hidden = await contract_client.get(reply.json["urls"]["large"])
    assert hidden.status == 404
    assert hidden.problem_type == "/problems/not-found"


async def test_a_published_photo_is_public_cacheable_and_revalidates(contract_client, world):
    token = await token_for(contract_client, OFFICER)
    reply = await send(contract_client, upload_body(encoded("WEBP")), token)
    photo = await Photo.get(id=reply.json["id"]).prefetch_related("owner")
    post = await create_post(photo.owner, PostStatus.PUBLISHED)
    await photos.attach(photo.owner, [photo.id], post)
    url = reply.json["urls"]["thumb"]
    public = await contract_client.get(url)
    assert public.status == 200
    assert public.headers["Cache-Control"] == "public, max-age=300"
    assert public.headers["X-Content-Type-Options"] == "nosniff"
    again = await contract_client.get(url, headers={"If-None-Match": public.headers["ETag"]})
    assert again.status == 304


async def test_upload_problems_are_documented(contract_client, world):
    officer = await token_for(contract_client, OFFICER)
    resident = await token_for(contract_client, RESIDENT)
    image = camera_jpeg()

    # No token at all breaks the contract's security requirement; the answer is still documented.
    assert (await send(contract_client, upload_body(image), None, off_contract=True)).status == 401
    assert (await send(contract_client, upload_body(image), resident)).status == 403
    not_an_image = await send(contract_client, upload_body(b"a text file named photo.jpg"), officer)
    assert not_an_image.status == 422
    assert not_an_image.json["errors"][0]["field"] == "file"
    no_alt = await send(contract_client, upload_body(image, None), officer, off_contract=True)
    assert no_alt.status == 422
    assert no_alt.json["errors"][0]["field"] == "alt_text"
    extra = multipart([("file", image, "a.jpg"), ("alt_text", b"ok", None), ("x", b"1", None)])
    # The contract forbids other parts, but openapi-core decodes only the parts a schema names,
    # so it cannot see this one: sent as on-contract, the answer is still checked.
    assert (await send(contract_client, extra, officer)).status == 422
    as_json = await contract_client.post(
        "/v1/photos", json_body={"alt_text": "x"}, token=officer, off_contract=True
    )
    assert as_json.status == 415
    assert as_json.problem_type == "/problems/unsupported-media-type"


async def test_a_malformed_multipart_body_is_a_documented_400(contract_client, world):
    # openapi-core's multipart reader fails an assertion on a part without a name, so this
    # request cannot go through the request check: it is sent raw and only the answer is
    # checked against the contract.
    data = b"--b\r\nContent-Disposition: form-data\r\n\r\nnameless\r\n--b--\r\n"
    headers = {
        "Authorization": f"Bearer {await token_for(contract_client, OFFICER)}",
        "Content-Type": "multipart/form-data; boundary=b",
    }
    response = await contract_client.client.post("/v1/photos", data=data, headers=headers)
    raw = await response.read()
    reply = contract_client._check_response(WireRequest.sent(response, data), response, raw)
    assert reply.status == 400
    assert reply.problem_type == "/problems/bad-request"


async def test_a_photo_over_the_limit_is_a_documented_413(
    aiohttp_client, settings, clock, world, contract
):
    app = create_app(settings.with_overrides(max_photo_bytes=50 * 1024), clock=clock)
    api = ContractClient(await aiohttp_client(app), contract)
    reply = await send(api, upload_body(noise_png((300, 300))), await token_for(api, OFFICER))
    assert reply.status == 413
    assert reply.problem_type == "/problems/body-too-large"


@pytest.mark.parametrize(
    ("path", "off_contract"),
    [
        (f"/v1/photos/{uuid.uuid4()}/large", False),
        ("/v1/photos/not-a-uuid/large", True),
        (f"/v1/photos/{uuid.uuid4()}/original", True),
    ],
)
async def test_photos_that_do_not_exist_are_404(contract_client, world, path, off_contract):
    reply = await contract_client.get(path, off_contract=off_contract)
    assert reply.status == 404


async def test_a_bad_token_on_a_photo_is_401(contract_client, world):
    reply = await contract_client.get(f"/v1/photos/{uuid.uuid4()}/thumb", token="not-a-jwt")
    assert reply.status == 401
