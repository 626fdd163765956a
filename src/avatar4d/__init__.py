"""avatar4d: animated character -> 4D Gaussian Splatting avatar."""

__version__ = "0.1.0"
