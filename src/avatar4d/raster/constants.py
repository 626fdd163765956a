"""Settings both backends share, so that they render the same image (gsplat 1.5.3 values)."""

NEAR_PLANE = 0.01  # Gaussians whose centre is nearer than this (camera z) are culled
FAR_PLANE = 1e10
EPS2D = 0.3  # low-pass dilation added to the diagonal of every 2D covariance, in px^2
ALPHA_THRESHOLD = 1.0 / 255.0  # a Gaussian contributes to a pixel only at or above this alpha
MAX_ALPHA = 0.999  # per-Gaussian alpha clamp (gsplat; the original 3DGS code uses 0.99)
MIN_TRANSMITTANCE = 1e-4  # a pixel stops before the Gaussian that would take T to or below this
