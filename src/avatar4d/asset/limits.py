"""Hard limits checked before allocating, so a hostile or broken file fails fast and cleanly."""

from __future__ import annotations

GIB = 1024**3

MAX_FILE_BYTES = 2 * GIB  # a .glb / .gltf file, or one external buffer or image file
MAX_BUFFER_BYTES_TOTAL = 2 * GIB  # all buffers of one asset together
MAX_VERTICES_TOTAL = 50_000_000  # all mesh primitives together
MAX_TRIANGLES_TOTAL = 100_000_000
MAX_ACCESSOR_COUNT = 50_000_000  # elements in one accessor (also zero-filled / sparse ones)
MAX_IMAGE_SIDE = 16_384  # pixels, width or height
MAX_NODES = 1_000_000
