"""Rasterisers behind one interface: gsplat (CUDA) and a PyTorch reference (any device)."""

from avatar4d.raster.api import RasterOutput, rasterize
from avatar4d.raster.cameras import RasterCameras, cameras_from_opengl_c2w

__all__ = ["RasterCameras", "RasterOutput", "cameras_from_opengl_c2w", "rasterize"]
