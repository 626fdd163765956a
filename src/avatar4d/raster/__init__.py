"""Rasterisers behind one interface: gsplat (CUDA) and a PyTorch reference (any device)."""

from avatar4d.raster.api import RasterOutput, rasterize
from avatar4d.raster.cameras import Cameras

__all__ = ["Cameras", "RasterOutput", "rasterize"]
