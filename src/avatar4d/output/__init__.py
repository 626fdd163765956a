"""Outputs: camera paths, time mappings, MP4 / PNG sequences, 3DGS PLY export."""
