"""The desk as a new user meets it, against a live `beat demo` server on loopback.

An officer posts from a template with a photo; a risky post waits on the desk with its
reasons; comms edit and approve it; the officer sees the outcome; the stored photo has no
EXIF; an area hold holds posts.
"""

from __future__ import annotations

import io
import uuid
from pathlib import Path

import aiohttp
from PIL import ExifTags, Image

from tests.e2e.test_demo import demo  # noqa: F401 - the live server fixture

PASSWORD = "beat-demo-password"


def photo_with_gps() -> bytes:
    exif = Image.Exif()
    exif[ExifTags.Base.Make] = "PhoneMaker"
    gps = exif.get_ifd(ExifTags.IFD.GPSInfo)
    gps[ExifTags.GPS.GPSLatitudeRef] = "N"
    gps[ExifTags.GPS.GPSLatitude] = (51.0, 31.0, 4.5678)
    buffer = io.BytesIO()
    Image.new("RGB", (800, 600), (10, 120, 200)).save(buffer, "JPEG", exif=exif)
    return buffer.getvalue()


async def sign_in(http: aiohttp.ClientSession, base: str, email: str) -> dict[str, str]:
    async with http.post(f"{base}/v1/auth/login", json={"email": email, "password": PASSWORD}) as r:
        assert r.status == 200
        return {"Authorization": f"Bearer {(await r.json())['access_token']}"}


async def test_an_officers_day_on_the_desk(demo):  # noqa: F811
    base, output = demo
    data_dir = output.parent / "demo-data"
    async with aiohttp.ClientSession() as http:
        officer = await sign_in(http, base, "officer@demo.beat")
        comms = await sign_in(http, base, "comms@demo.beat")

        async with http.get(f"{base}/v1/templates", headers=officer) as r:
            patrol = next(t for t in (await r.json())["items"] if t["kind"] == "patrol")
        form = aiohttp.FormData()
        form.add_field("alt_text", "Officers by a bike stand on Aldersgate Street")
        form.add_field("file", photo_with_gps(), filename="IMG_0001.jpg", content_type="image/jpeg")
        async with http.post(f"{base}/v1/photos", data=form, headers=officer) as r:
            assert r.status == 201, await r.text()
            photo = await r.json()
        text = patrol["body"].format(street="Aldersgate Street", issue="bike thefts")
        async with http.post(
            f"{base}/v1/posts",
            json={"text": text, "neighbourhoods": ["E05009288"], "template_id": patrol["id"],
                  "kind": "patrol", "photos": [photo["id"]]},
            headers={**officer, "Idempotency-Key": str(uuid.uuid4())},
        ) as r:  # fmt: skip
            assert r.status == 201
            clean = await r.json()
        assert clean["status"] == "published"
        stored = list((data_dir / "photos").rglob("*.jpg"))
        assert stored
        for path in stored:
            with Image.open(path) as image:
                assert not image.getexif()
                assert "exif" not in image.info
            assert b"PhoneMaker" not in Path(path).read_bytes()
        async with http.get(f"{base}{photo['urls']['large']}") as r:
            assert r.status == 200 and r.content_type == "image/jpeg"

        risky = "A man was arrested on Aldersgate Street and charged with theft; he appears in court on Monday."
        async with http.post(
            f"{base}/v1/posts", json={"text": risky, "neighbourhoods": ["E05009288"]},
            headers={**officer, "Idempotency-Key": str(uuid.uuid4())},
        ) as r:  # fmt: skip
            waiting = await r.json()
        assert waiting["status"] == "pending-review"
        async with http.get(f"{base}/v1/moderation/queue", headers=comms) as r:
            queued = {p["id"]: p for p in (await r.json())["items"]}
        assert "live-proceedings" in {h["code"] for h in queued[waiting["id"]]["risks"]}

        softened = "Thanks to everyone who reported thefts on Aldersgate Street: we made an arrest."
        async with http.post(
            f"{base}/v1/posts/{waiting['id']}/edit-approve", headers=comms,
            json={"text": softened, "note": "Removed details of a live case"},
        ) as r:  # fmt: skip
            assert (await r.json())["status"] == "published"
        async with http.get(f"{base}/v1/me/notifications", headers=officer) as r:
            notes = (await r.json())["items"]
        assert any(
            n["kind"] == "post-edited-and-approved" and n["post_id"] == waiting["id"] for n in notes
        )

        async with http.put(
            f"{base}/v1/areas/city-of-london/E05009288/hold", headers=comms,
            json={"reason": "Operation in progress"},
        ) as r:  # fmt: skip
            assert r.status == 200
        async with http.post(
            f"{base}/v1/posts", json={"text": text, "neighbourhoods": ["E05009288"]},
            headers={**officer, "Idempotency-Key": str(uuid.uuid4())},
        ) as r:  # fmt: skip
            assert (await r.json())["status"] == "pending-review"
