"""Hard limits checked before allocating, so a hostile or broken file fails fast and cleanly.

Real characters stay far below every one of them (Soldier.glb: 7,434 vertices, 4 images of
1024x1024 at most, 66 nodes, 17 levels deep).
"""

from __future__ import annotations

GIB = 1024**3

MAX_FILE_BYTES = 2 * GIB  # a .glb / .gltf file, or one external buffer or image file
MAX_BUFFER_BYTES_TOTAL = 2 * GIB  # all buffers of one asset together
MAX_ACCESSOR_BYTES_TOTAL = 2 * GIB  # all accessor arrays read, zero-filled ones included
MAX_VERTICES_TOTAL = 10_000_000  # all primitives, each mesh counted once per node drawing it
MAX_TRIANGLES_TOTAL = 20_000_000  # counted as the vertices are
MAX_MORPH_DELTAS_TOTAL = 20_000_000  # morph targets x vertices, summed over all primitives
MAX_ANIMATION_VALUES_TOTAL = 50_000_000  # keyframe times + values of all channels, as copied
MAX_ACCESSOR_COUNT = 50_000_000  # elements in one accessor (also zero-filled / sparse ones)
MAX_IMAGE_SIDE = 16_384  # pixels, width or height
MAX_IMAGE_PIXELS = 8192 * 8192  # one image: 256 MiB once decoded to RGBA
MAX_IMAGE_PIXELS_TOTAL = 4 * MAX_IMAGE_PIXELS  # all images decoded: 1 GiB of RGBA
MAX_NODES = 100_000
MAX_NODE_DEPTH = 1_000  # levels below a root; each level costs one matrix product per pose
