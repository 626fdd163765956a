"""The 4D Gaussian model: canonical Gaussians in one parameter dict and a time deformation."""
