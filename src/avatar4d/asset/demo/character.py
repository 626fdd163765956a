"""The built-in demo character: a small, friendly, skinned and morphing humanoid as GLB.

Generated entirely by this project's code (no downloaded asset), deterministically:
about 1.7 units tall, feet at y = 0, facing +Z, Y up; clips "wave", "talk", "walk".
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from avatar4d.asset.demo import palette as palette
from avatar4d.asset.demo.body import coloured_parts, shirt_parts, to_primitive
from avatar4d.asset.demo.clips import HEAD_MESH_NODE, Clip, demo_clips
from avatar4d.asset.demo.head import (
    EYELID_OPEN_SCALE,
    MORPH_NAME,
    build_eyelid,
    build_head,
    eyelid_placements,
)
from avatar4d.asset.demo.skeleton import (
    JOINTS,
    inverse_bind_matrices,
    joint_position,
    local_translation,
    skin_weights,
)
from avatar4d.asset.demo.textures import face_texture, png_bytes, shirt_texture
from avatar4d.asset.glb_builder import (
    CLAMP_TO_EDGE,
    REPEAT,
    AnimationChannel,
    GlbBuilder,
    MorphTarget,
    Primitive,
)
from avatar4d.errors import InputError
from avatar4d.io.atomic import refuse_existing, write_bytes_atomic

ROOT_NODE = "demo_character"


def build_demo_character() -> bytes:
    """The demo character as GLB bytes (the same bytes on every call)."""
    builder = GlbBuilder()
    materials = _add_materials(builder)
    nodes = _add_skeleton(builder)
    skin = builder.add_skin(
        [nodes[j.name] for j in JOINTS], inverse_bind_matrices(), nodes["hips"], "demo_skin"
    )

    shirt = to_primitive(shirt_parts(), with_colours=False)
    shirt.material = materials["shirt"]
    body = to_primitive(coloured_parts(), with_colours=True)
    body.material = materials["body"]
    body_mesh = builder.add_mesh([shirt, body], name="body")
    head_mesh = builder.add_mesh(
        [_head_primitive(materials["face"])],
        name="head",
        weights=[0.0],
        target_names=[MORPH_NAME],
    )
    nodes["body"] = builder.add_node("body", mesh=body_mesh, skin=skin)
    nodes[HEAD_MESH_NODE] = builder.add_node(HEAD_MESH_NODE, mesh=head_mesh, skin=skin)
    _add_eyelids(builder, nodes, materials["eyelid"])

    nodes[ROOT_NODE] = builder.add_node(
        ROOT_NODE, children=[nodes["hips"], nodes["body"], nodes[HEAD_MESH_NODE]]
    )
    builder.add_scene([nodes[ROOT_NODE]], name="demo")
    for clip in demo_clips():
        builder.add_animation(_channels(clip, nodes), name=clip.name)
    return builder.to_bytes()


def write_demo_character(path: Path, force: bool = False) -> Path:
    """Write the demo GLB to ``path`` atomically; an existing file needs ``force``."""
    path = Path(path)
    if path.is_dir():
        raise InputError(path, "is a folder; give a file name such as demo.glb")
    refuse_existing(path, force)  # before the build, so a refusal costs nothing
    return write_bytes_atomic(path, build_demo_character(), force)


def _add_materials(builder: GlbBuilder) -> dict[str, int]:
    sampler = builder.add_sampler(wrap_s=REPEAT, wrap_t=CLAMP_TO_EDGE)
    face = builder.add_texture(builder.add_image_png(png_bytes(face_texture()), "face"), sampler)
    shirt = builder.add_texture(builder.add_image_png(png_bytes(shirt_texture()), "shirt"), sampler)
    return {
        "face": builder.add_material("face", base_color_texture=face),
        "shirt": builder.add_material("shirt", base_color_texture=shirt),
        "body": builder.add_material("body"),  # white factor x COLOR_0
        "eyelid": builder.add_material(
            "eyelid", base_color_factor=palette.linear_rgba(palette.EYELID)
        ),
    }


def _add_skeleton(builder: GlbBuilder) -> dict[str, int]:
    nodes = {
        joint.name: builder.add_node(joint.name, translation=local_translation(joint))
        for joint in JOINTS
    }
    for joint in JOINTS:
        children = [nodes[j.name] for j in JOINTS if j.parent == joint.name]
        if children:
            builder.add_children(nodes[joint.name], children)
    return nodes


def _head_primitive(material: int) -> Primitive:
    head = build_head()
    joints, weights = skin_weights(head.mesh.positions, ("head",))
    return Primitive(
        positions=head.mesh.positions.astype(np.float32),
        indices=head.mesh.indices,
        material=material,
        normals=head.mesh.normals.astype(np.float32),
        uvs=head.mesh.uvs.astype(np.float32),
        joints=joints,
        weights=weights,
        targets=[MorphTarget(head.mouth_open_positions, head.mouth_open_normals)],
    )


def _add_eyelids(builder: GlbBuilder, nodes: dict[str, int], material: int) -> None:
    lid = build_eyelid()
    mesh = builder.add_mesh(
        [
            Primitive(
                positions=lid.positions.astype(np.float32),
                indices=lid.indices,
                material=material,
                normals=lid.normals.astype(np.float32),
            )
        ],
        name="eyelid",
    )
    head_position = joint_position("head")
    for placement in eyelid_placements():
        nodes[placement.name] = builder.add_node(
            placement.name,
            translation=placement.translation - head_position,
            rotation=placement.rotation,
            scale=EYELID_OPEN_SCALE,
            mesh=mesh,
        )
        builder.add_children(nodes["head"], [nodes[placement.name]])


def _channels(clip: Clip, nodes: dict[str, int]) -> list[AnimationChannel]:
    return [
        AnimationChannel(nodes[c.target], c.path, c.times, c.values, c.interpolation)
        for c in clip.channels
    ]
