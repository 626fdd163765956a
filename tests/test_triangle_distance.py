"""The exact point-to-triangle search the rig model binds its Gaussians with."""

from __future__ import annotations

import torch

from avatar4d.model.triangle_distance import closest_points, nearest_triangles


def brute_force_distance(points, a, b, c, steps: int = 300) -> torch.Tensor:
    """The distance to a dense barycentric sampling of each triangle: an upper bound."""
    u = torch.linspace(0, 1, steps)
    uu, vv = torch.meshgrid(u, u, indexing="ij")
    keep = (uu + vv) <= 1
    uu, vv = uu[keep], vv[keep]
    samples = (
        a[:, None] + (b - a)[:, None] * uu[None, :, None] + (c - a)[:, None] * vv[None, :, None]
    )
    return (samples - points[:, None]).norm(dim=-1).min(dim=1).values


def test_closest_points_are_on_the_triangle_and_nearest():
    generator = torch.Generator().manual_seed(0)
    a, b, c = (torch.randn(400, 3, generator=generator, dtype=torch.float64) for _ in range(3))
    points = 2.0 * torch.randn(400, 3, generator=generator, dtype=torch.float64)
    closest = closest_points(points, a, b, c)
    exact = (closest - points).norm(dim=-1)
    sampled = brute_force_distance(points, a, b, c)
    assert (exact <= sampled + 1e-6).all()  # never farther than any point of the triangle
    assert (sampled - exact).max() < 0.02  # and the sampling comes down to it
    # the closest point lies on the triangle: barycentric coordinates in [0, 1]
    normal = torch.cross(b - a, c - a, dim=-1)
    area = normal.norm(dim=-1)
    u = (torch.cross(c - b, closest - b, dim=-1) * normal).sum(-1) / area**2
    v = (torch.cross(a - c, closest - c, dim=-1) * normal).sum(-1) / area**2
    w = 1 - u - v
    for coordinate in (u, v, w):
        assert coordinate.min() > -1e-9 and coordinate.max() < 1 + 1e-9


def test_a_point_near_a_large_triangles_edge_is_bound_to_it_not_to_a_nearer_centroid():
    # a large triangle and a small one beside its long edge; the point lies on the large one,
    # next to that edge, closer to the small triangle's centroid than to its own
    vertices = torch.tensor(
        [[0.0, 0, 0], [10, 0, 0], [0, 10, 0], [5.5, 5.5, 0], [5.0, 6.0, 0.0], [6.0, 5.0, 0]]
    )
    faces = torch.tensor([[0, 1, 2], [3, 4, 5]])
    point = torch.tensor([[4.9, 4.9, 0.0]])
    centroids = vertices[faces].mean(dim=1)
    assert (centroids[1] - point).norm() < (centroids[0] - point).norm()
    assert nearest_triangles(point, vertices, faces, torch.arange(2), 1024).tolist() == [0]
    # only allowed faces are chosen, and every block size gives the same answer
    assert nearest_triangles(point, vertices, faces, torch.tensor([1]), 1024).tolist() == [1]
    many = torch.rand(50, 3) * 8
    assert torch.equal(
        nearest_triangles(many, vertices, faces, torch.arange(2), 7),
        nearest_triangles(many, vertices, faces, torch.arange(2), 1024),
    )


def test_the_rig_binds_points_on_its_mesh_to_the_triangle_they_lie_on(tmp_path):
    """Points sampled on the demo's anchor mesh: the rig model's binding finds a triangle they
    lie on for nearly all (the nearest centroid, what it used before, for about 69 %)."""
    from avatar4d.asset.demo.character import write_demo_character
    from avatar4d.asset.loader import load_asset
    from avatar4d.asset.rig_mesh import RigPoser
    from avatar4d.model.rig_deformation import RigDeformation, Segment

    asset = load_asset(write_demo_character(tmp_path / "demo.glb"))
    rig = RigDeformation(RigPoser(asset), (Segment("wave", 0.0, 1.0),), True, 0.0)
    points = rig.initial_points(3000, torch.Generator().manual_seed(0))
    vertices = torch.from_numpy(rig.anchor_positions())
    corners = vertices[rig.faces("cpu").long()[rig.nearest_faces(points).long()]]
    distance = (closest_points(points, *corners.unbind(dim=1)) - points).norm(dim=-1)
    assert float((distance < 1e-6).float().mean()) > 0.98
    assert float(distance.max()) < 0.01  # a miss is a neighbour (the mesh is 2 units tall)
