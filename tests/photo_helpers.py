"""Real images made with Pillow for the photo tests, and multipart bodies made by hand."""

from __future__ import annotations

import io
import struct
import uuid
import zlib
from datetime import UTC, datetime
from fractions import Fraction

from PIL import ExifTags, Image, ImageCms, ImageDraw
from PIL.PngImagePlugin import PngInfo
from PIL.TiffImagePlugin import IFDRational

from beat.models import Post, User
from beat.post_states import PostStatus

CAMERA_MAKE = "Canon"
CAMERA_MODEL = "EOS Secret Squirrel"
TAKEN_AT = "2024:05:01 12:34:56"
COMMENT = b"taken outside 12 Acacia Avenue"
# 51 deg 30' 55.1234" N, 0 deg 5' 32.1987" W: the seconds are distinctive enough to search for.
GPS_SECONDS = (Fraction(551234, 10000), Fraction(321987, 10000))


def picture(size: tuple[int, int] = (640, 480), *, mode: str = "RGB") -> Image.Image:
    """A picture with structure: left half red, right half blue, a white box in the middle."""
    width, height = size
    image = Image.new("RGB", size, (200, 30, 30))
    draw = ImageDraw.Draw(image)
    draw.rectangle((width // 2, 0, width, height), fill=(30, 30, 200))
    draw.rectangle((width // 3, height // 3, 2 * width // 3, 2 * height // 3), fill="white")
    return image.convert(mode) if mode != "RGB" else image


def camera_exif(orientation: int | None = None) -> Image.Exif:
    exif = Image.Exif()
    exif[ExifTags.Base.Make] = CAMERA_MAKE
    exif[ExifTags.Base.Model] = CAMERA_MODEL
    exif[ExifTags.Base.DateTime] = TAKEN_AT
    if orientation is not None:
        exif[ExifTags.Base.Orientation] = orientation
    gps = exif.get_ifd(ExifTags.IFD.GPSInfo)
    lat, lng = (IFDRational(s.numerator, s.denominator) for s in GPS_SECONDS)
    gps[ExifTags.GPS.GPSLatitudeRef] = "N"
    gps[ExifTags.GPS.GPSLatitude] = (IFDRational(51, 1), IFDRational(30, 1), lat)
    gps[ExifTags.GPS.GPSLongitudeRef] = "W"
    gps[ExifTags.GPS.GPSLongitude] = (IFDRational(0, 1), IFDRational(5, 1), lng)
    return exif


def gps_patterns() -> list[bytes]:
    """The GPS seconds as EXIF stores rationals, in either byte order."""
    return [
        struct.pack(order + "II", s.numerator, s.denominator)
        for s in GPS_SECONDS
        for order in ("<", ">")
    ]


def camera_jpeg(size: tuple[int, int] = (640, 480), *, orientation: int | None = None) -> bytes:
    """A JPEG as a phone writes it: EXIF with GPS, a comment, XMP and a colour profile."""
    out = io.BytesIO()
    picture(size).save(
        out,
        "JPEG",
        quality=92,
        exif=camera_exif(orientation),
        comment=COMMENT,
        xmp=b"<x:xmpmeta><rdf:Description>PC 1234 at the scene</rdf:Description></x:xmpmeta>",
        icc_profile=ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes(),
    )
    return out.getvalue()


def png_with_text(*, transparent_corner: bool = False) -> bytes:
    info = PngInfo()
    info.add_text("Author", "PC Secret Squirrel")
    info.add_itxt("Location", "51.5155,-0.0922 outside number 12")
    image = picture((300, 200), mode="RGBA")
    if transparent_corner:
        ImageDraw.Draw(image).rectangle((0, 0, 20, 20), fill=(0, 0, 0, 0))
    out = io.BytesIO()
    image.save(out, "PNG", pnginfo=info)
    return out.getvalue()


def encoded(fmt: str, size: tuple[int, int] = (320, 240), **params: object) -> bytes:
    out = io.BytesIO()
    picture(size).save(out, fmt, **params)
    return out.getvalue()


def noise_png(size: tuple[int, int]) -> bytes:
    """Random noise compresses badly: a PNG of a predictable, large size."""
    out = io.BytesIO()
    Image.effect_noise(size, 100).convert("RGB").save(out, "PNG", compress_level=0)
    return out.getvalue()


def png_claiming(width: int, height: int) -> bytes:
    """A tiny PNG whose header says it is `width` x `height`: a decompression bomb's shape."""
    raw = encoded("PNG", (8, 8))
    header = struct.pack(">II", width, height) + raw[24:29]
    chunk = b"IHDR" + header
    return raw[:12] + chunk + struct.pack(">I", zlib.crc32(chunk)) + raw[33:]


def multipart(
    parts: list[tuple[str, bytes, str | None]], boundary: str = "beat-test-boundary-7f3a"
) -> tuple[bytes, str]:
    """A multipart/form-data body from (name, content, filename) parts, and its content type."""
    body = bytearray()
    for name, content, filename in parts:
        body += f"--{boundary}\r\n".encode()
        disposition = f'form-data; name="{name}"'
        if filename is not None:
            disposition += f'; filename="{filename}"'
            body += f"Content-Disposition: {disposition}\r\n".encode()
            body += b"Content-Type: application/octet-stream\r\n\r\n"
        else:
            body += f"Content-Disposition: {disposition}\r\n\r\n".encode()
        body += content + b"\r\n"
    body += f"--{boundary}--\r\n".encode()
    return bytes(body), f"multipart/form-data; boundary={boundary}"


def upload_body(
    image: bytes, alt_text: str | None = "PCs on patrol in Cheapside"
) -> tuple[bytes, str]:
    parts: list[tuple[str, bytes, str | None]] = [("file", image, "IMG_0001.jpg")]
    if alt_text is not None:
        parts.append(("alt_text", alt_text.encode(), None))
    return multipart(parts)


async def create_post(author: User, status: PostStatus = PostStatus.DRAFT) -> Post:
    assert author.force_id is not None
    return await Post.create(
        id=uuid.uuid4(),
        force_id=author.force_id,
        author=author,
        status=status,
        text="Patrolling Cheapside tonight.",
        created_at=datetime.now(UTC),
    )
