"""Uploaded images (equipment pictures, intervention photos, signatures): their content is
checked as an image, whatever the client claimed, and a thumbnail is made from it.

Pillow decodes the bytes. An upload is accepted only when Pillow recognises one of
:data:`FORMATS`, can decode it fully, and it has at most ``MAX_PIXELS`` pixels (a
"decompression bomb" — a small file that decodes into gigabytes — is refused before it is
decoded). Decoding runs in a worker thread.
"""

from __future__ import annotations

import asyncio
import dataclasses
import io
import warnings

from PIL import Image, ImageOps, UnidentifiedImageError

from fiche.errors import UserErrors
from fiche.files import AcceptedFile

__all__ = ["FORMATS", "MAX_PIXELS", "THUMBNAIL_SIZE", "CheckedImage", "check_image"]

# Pillow format name → the content type stored with the file.
FORMATS = {"JPEG": "image/jpeg", "PNG": "image/png", "WEBP": "image/webp", "GIF": "image/gif"}
MAX_PIXELS = 40_000_000
THUMBNAIL_SIZE = 256


@dataclasses.dataclass(frozen=True, slots=True)
class CheckedImage:
    """An upload that decoded as an image, with its real content type, its size in pixels
    and a JPEG or PNG thumbnail that fits in ``THUMBNAIL_SIZE`` × ``THUMBNAIL_SIZE``."""

    file: AcceptedFile
    width: int
    height: int
    thumbnail: bytes
    thumbnail_type: str


def _decode(upload: AcceptedFile) -> CheckedImage | str:
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(upload.data)) as probe:
                kind = probe.format or ""
                width, height = probe.size
                if kind not in FORMATS:
                    return f"The file is not an image in an accepted format ({', '.join(sorted(FORMATS))})."
                if width * height > MAX_PIXELS:
                    return f"The image is larger than {MAX_PIXELS} pixels."
                probe.load()
                image = ImageOps.exif_transpose(probe) or probe
                image.thumbnail((THUMBNAIL_SIZE, THUMBNAIL_SIZE))
                opaque = image.mode in ("RGB", "L", "CMYK", "YCbCr")
                out = io.BytesIO()
                if opaque:
                    image.convert("RGB").save(out, "JPEG", quality=85)
                else:
                    image.convert("RGBA").save(out, "PNG")
    except (UnidentifiedImageError, Image.DecompressionBombError, Image.DecompressionBombWarning):
        return "The file is not an image in an accepted format (" + ", ".join(sorted(FORMATS)) + ")."
    except (OSError, ValueError, SyntaxError):
        return "The image is damaged and cannot be read."
    return CheckedImage(
        file=dataclasses.replace(upload, content_type=FORMATS[kind]),
        width=width,
        height=height,
        thumbnail=out.getvalue(),
        thumbnail_type="image/jpeg" if opaque else "image/png",
    )


async def check_image(upload: AcceptedFile, *path: str) -> CheckedImage:
    """``upload`` checked as an image; INVALID at ``path`` when its bytes are not one.

    The returned file keeps the upload's name and bytes, with the content type of what the
    bytes really are (a PNG sent as ``image/jpeg`` is stored as ``image/png``)."""
    decoded = await asyncio.to_thread(_decode, upload)
    if isinstance(decoded, str):
        raise UserErrors.invalid(decoded, *path)
    return decoded
