"""Texture images decoded to RGBA uint8, with the size checked from the header before decoding."""

from __future__ import annotations

import io
import warnings

import numpy as np
from PIL import Image, UnidentifiedImageError

from avatar4d.asset.accessors import Accessors
from avatar4d.asset.extensions import WEBP
from avatar4d.asset.gltf_file import GltfFile
from avatar4d.asset.limits import MAX_IMAGE_PIXELS, MAX_IMAGE_PIXELS_TOTAL, MAX_IMAGE_SIDE
from avatar4d.asset.uris import read_uri
from avatar4d.errors import InputError


class Images:
    """Decodes each glTF image at most once; the arrays are read-only and shared."""

    def __init__(self, gltf: GltfFile, accessors: Accessors) -> None:
        self._gltf = gltf
        self._accessors = accessors
        self._images = gltf.json.array("images")
        self._textures = gltf.json.array("textures")
        self._decoded: dict[int, np.ndarray] = {}
        self._pixels_decoded = 0

    @property
    def texture_count(self) -> int:
        return len(self._textures)

    @property
    def image_count(self) -> int:
        return len(self._images)

    def name(self, image_index: int) -> str:
        name = self._images[image_index].get("name")
        return name if isinstance(name, str) else f"image_{image_index}"

    def texture_image_index(self, texture_index: int) -> int | None:
        """The image a texture samples: EXT_texture_webp source first, else ``source``."""
        doc = self._gltf.json
        path = f"textures[{texture_index}]"
        if not 0 <= texture_index < len(self._textures):
            doc.fail(f"texture {texture_index} does not exist ({len(self._textures)} textures)")
        texture = self._textures[texture_index]
        webp = doc.extensions(texture, path).get(WEBP)
        if isinstance(webp, dict) and webp.get("source") is not None:
            return doc.index(webp, "source", f"{path}.extensions.{WEBP}", "images")
        return doc.optional_index(texture, "source", path, "images")

    def rgba(self, image_index: int) -> np.ndarray:
        decoded = self._decoded.get(image_index)
        if decoded is None:
            data = self.encoded_bytes(image_index)
            width, height = read_image_size(data, self._gltf.json.where, image_index)
            self._pixels_decoded += width * height
            if self._pixels_decoded > MAX_IMAGE_PIXELS_TOTAL:
                self._gltf.json.fail(
                    f"image {image_index} would bring the texture pixels decoded to "
                    f"{self._pixels_decoded:,}, more than the {MAX_IMAGE_PIXELS_TOTAL:,} allowed"
                )
            decoded = decode_rgba(data, self._gltf.json.where, image_index)
            decoded.setflags(write=False)
            self._decoded[image_index] = decoded
        return decoded

    def size(self, image_index: int) -> tuple[int, int]:
        """(width, height) from the header only."""
        return read_image_size(self.encoded_bytes(image_index), self._gltf.json.where, image_index)

    def encoded_bytes(self, image_index: int) -> bytes:
        doc = self._gltf.json
        image = self._images[image_index]
        path = f"images[{image_index}]"
        view_index = doc.optional_integer(image, "bufferView", path)
        if view_index is not None:
            return bytes(self._accessors.view_bytes(view_index, path))
        uri = image.get("uri")
        if not isinstance(uri, str):
            doc.fail(f"{path} has neither a bufferView nor a uri")
        return read_uri(uri, self._gltf.folder, doc.where, f"image {image_index}")


def read_image_size(data: bytes, where: str, image_index: int) -> tuple[int, int]:
    with _open(data, where, image_index) as image:
        return image.size


def decode_rgba(data: bytes, where: str, image_index: int) -> np.ndarray:
    """(H, W, 4) uint8; refuses images larger than MAX_IMAGE_SIDE before decoding pixels."""
    with _open(data, where, image_index) as image:
        try:
            if image.mode in ("I;16", "I;16B", "I;16L", "I"):
                gray = (np.asarray(image, dtype=np.uint32) >> 8).astype(np.uint8)
                image = Image.fromarray(gray, "L")
            return np.array(image.convert("RGBA"), dtype=np.uint8)
        except (OSError, ValueError) as error:
            raise InputError(where, f"image {image_index}: cannot decode ({error})") from None


def _open(data: bytes, where: str, image_index: int) -> Image.Image:
    try:
        with warnings.catch_warnings():
            # our own per-side limit below replaces Pillow's pixel-count warning
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            image = Image.open(io.BytesIO(data))  # reads the header only
    except Image.DecompressionBombError as error:
        raise InputError(where, f"image {image_index}: too large ({error})") from None
    except UnidentifiedImageError:
        raise InputError(where, f"image {image_index}: not a PNG, JPEG or WebP image") from None
    except (OSError, ValueError) as error:
        raise InputError(where, f"image {image_index}: cannot be read ({error})") from None
    width, height = image.size
    if width > MAX_IMAGE_SIDE or height > MAX_IMAGE_SIDE:
        image.close()
        raise InputError(
            where,
            f"image {image_index} is {width}x{height} pixels, more than {MAX_IMAGE_SIDE} per side",
        )
    if width * height > MAX_IMAGE_PIXELS:
        image.close()
        raise InputError(
            where,
            f"image {image_index} is {width}x{height} = {width * height:,} pixels, more than "
            f"the {MAX_IMAGE_PIXELS:,} allowed",
        )
    return image
