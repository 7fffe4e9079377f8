"""Photo upload (multipart, streamed to disk with a byte count) and serving the stored files."""

from __future__ import annotations

import asyncio
import os
import re
import tempfile
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from aiohttp import BodyPartReader, MultipartReader, web
from aiohttp.http_exceptions import HttpProcessingError
from aiohttp.multipart import BadContentDispositionHeader, BadContentDispositionParam

from beat import photos
from beat.api import serialise
from beat.api.auth import actor, optional_actor
from beat.api.keys import CLOCK, SETTINGS
from beat.api.problems import BadRequest
from beat.errors import Invalid
from beat.models import Photo

routes = web.RouteTableDef()

PARTS = ("file", "alt_text")
CHUNK = 64 * 1024
FLUSH_AT = 1024 * 1024  # bytes gathered before each write to the spool file
# Alt text before white space is collapsed: 1000 characters of up to 4 UTF-8 bytes, and slack.
ALT_TEXT_MAX_BYTES = 16 * 1024
# Multipart framing around the file: boundaries, part headers, the alt text.
FRAMING_ALLOWANCE = 64 * 1024
_UUID = re.compile(r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}")

# Short: a withdrawn post's photo must not linger in caches; it 404s here at once.
PUBLIC_CACHE = "public, max-age=300"
PRIVATE_CACHE = "private, no-store"


def photo_json(photo: Photo) -> dict[str, Any]:
    """A photo as the app sees it (one serialiser: the posts' photos use the same)."""
    return serialise.photo(photo)


@dataclass
class _Upload:
    """What the multipart body held; `file` is a spool file the handler must remove."""

    file: Path | None = None
    alt_text: str | None = None


@routes.post("/v1/photos")
async def upload_photo(request: web.Request) -> web.Response:
    who = await actor(request)
    photos.check_may_upload(who)  # before reading megabytes from someone who may not send them
    settings = request.app[SETTINGS]
    limit = settings.max_photo_bytes
    if request.content_type != "multipart/form-data":
        raise BadRequest(
            "send the photo as multipart/form-data with the parts file and alt_text",
            status=415,
            slug="unsupported-media-type",
        )
    if request.content_length is not None and request.content_length > limit + FRAMING_ALLOWANCE:
        raise _too_large(limit)
    upload = _Upload()
    try:
        await _read_parts(request, upload, settings.photos_dir / "tmp", limit)
        if upload.file is None:
            raise Invalid.field("file", "is required: the photo itself")
        if upload.alt_text is None:
            raise Invalid.field(
                "alt_text", "is required: describe the photo for people who cannot see it"
            )
        photo = await photos.ingest(
            who,
            upload.file,
            alt_text=upload.alt_text,
            photos_dir=settings.photos_dir,
            now=request.app[CLOCK](),
        )
    finally:
        if upload.file is not None:
            await asyncio.to_thread(upload.file.unlink, missing_ok=True)
    return web.json_response(photo_json(photo), status=201)


@routes.get("/v1/photos/{photo_id}/{size}")
async def get_photo(request: web.Request) -> web.FileResponse:
    viewer = await optional_actor(request)
    raw_id = request.match_info["photo_id"]
    if not _UUID.fullmatch(raw_id):
        raise web.HTTPNotFound(text="no such photo")
    found = await photos.visible_photo(
        viewer, uuid.UUID(raw_id), request.match_info["size"], request.app[SETTINGS].photos_dir
    )
    return web.FileResponse(
        found.path,
        headers={
            "Content-Type": photos.CONTENT_TYPE,
            # Once published a photo's files never change (they are named by their hash);
            # before that nothing may keep a copy.
            "Cache-Control": PUBLIC_CACHE if found.public else PRIVATE_CACHE,
            "X-Content-Type-Options": "nosniff",
        },
    )


def _too_large(limit: int) -> BadRequest:
    return BadRequest(f"the photo is larger than {limit} bytes", status=413, slug="body-too-large")


async def _read_parts(request: web.Request, upload: _Upload, spool_dir: Path, limit: int) -> None:
    """Read each part once, in any order; the file goes to disk as it arrives."""
    try:
        reader = await request.multipart()
        seen: set[str] = set()
        while (part := await reader.next()) is not None:
            if isinstance(part, MultipartReader):
                raise BadRequest("a part may not itself be multipart")
            name = part.name
            if name is None:
                raise BadRequest("every part needs Content-Disposition: form-data; name=...")
            if name not in PARTS:
                raise Invalid.field(name, "is not a part of this request: send file and alt_text")
            if name in seen:
                raise Invalid.field(name, "give this part once")
            seen.add(name)
            if name == "file":
                await _spool(part, upload, spool_dir, limit)
            else:
                upload.alt_text = await _text(part)
    # aiohttp's multipart reader reports broken framing with these; the content-disposition
    # warnings are exceptions only when warnings are errors (as in the tests).
    except (
        ValueError,
        RuntimeError,
        HttpProcessingError,
        BadContentDispositionHeader,
        BadContentDispositionParam,
    ) as exc:
        raise BadRequest(f"the multipart body could not be read: {exc}") from exc


async def _spool(part: BodyPartReader, upload: _Upload, spool_dir: Path, limit: int) -> None:
    """Copy the part to a new file under `spool_dir`, refusing it once it passes `limit` bytes.

    aiohttp's client_max_size does not bound a multipart stream: the count here is the limit.
    """
    await asyncio.to_thread(spool_dir.mkdir, parents=True, exist_ok=True)
    fd, name = await asyncio.to_thread(tempfile.mkstemp, dir=spool_dir, suffix=".upload")
    upload.file = Path(name)  # from here on the handler removes it, whatever happens
    with os.fdopen(fd, "wb") as out:
        size = 0
        pending = bytearray()
        while chunk := await part.read_chunk(CHUNK):
            size += len(chunk)
            if size > limit:
                raise _too_large(limit)
            pending += chunk
            if len(pending) >= FLUSH_AT:
                await asyncio.to_thread(out.write, bytes(pending))
                pending.clear()
        await asyncio.to_thread(out.write, bytes(pending))


async def _text(part: BodyPartReader) -> str:
    data = bytearray()
    while chunk := await part.read_chunk(CHUNK):
        data += chunk
        if len(data) > ALT_TEXT_MAX_BYTES:
            raise Invalid.field("alt_text", f"must be at most {photos.ALT_TEXT_MAX} characters")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise Invalid.field("alt_text", "must be UTF-8 text") from exc
