"""The built-in demo character, made by code (no downloaded asset): skeleton, body and head
shapes, palette and textures, motion clips, assembled into a GLB by ``character.py``."""
