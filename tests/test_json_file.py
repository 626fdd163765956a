"""The JSON reader: size and nesting depth checked before parsing; every JSON input uses it."""

from __future__ import annotations

import json
import struct
import time
from pathlib import Path

import pytest
from cli_output import one_error_line
from dataset_builders import frame, write_dataset
from gltf_handmade import one_triangle

from avatar4d.cli import main
from avatar4d.errors import InputError
from avatar4d.io.json_file import (
    MAX_JSON_DEPTH,
    nesting_depth,
    parse_json_bytes,
    read_json_file,
)
from avatar4d.output.camera_paths import load_nerfstudio_camera_path

DEEP = 100_000  # far past Python's recursion limit: json.loads raised RecursionError
DEEP_VALUE = "[" * DEEP + "]" * DEEP
DEPTH_PROBLEM = f"JSON nested more than {MAX_JSON_DEPTH} levels deep (arrays / objects); refused"


@pytest.mark.parametrize(
    ("text", "depth"),
    [
        ("3", 0),
        ("[]", 1),
        ('{"a": [1, {"b": []}]}', 4),
        ('["[[[[", "}}"]', 1),  # brackets inside strings do not count
        (r'["\"[[[", "\\", ["x"]]', 2),  # nor do they after escaped quotes and backslashes
        ('{"a": "\\u005b"}', 1),
    ],
)
def test_nesting_depth_counts_brackets_outside_strings(text, depth):
    assert nesting_depth(text.encode()) == depth
    assert nesting_depth(text.encode()) == _depth_of(json.loads(text))


def _depth_of(value: object) -> int:
    if isinstance(value, dict):
        return 1 + max((_depth_of(v) for v in value.values()), default=0)
    if isinstance(value, list):
        return 1 + max((_depth_of(v) for v in value), default=0)
    return 0


def test_depth_at_the_limit_parses_and_one_more_is_refused():
    at_limit = "[" * MAX_JSON_DEPTH + "]" * MAX_JSON_DEPTH
    assert parse_json_bytes(at_limit.encode(), "x.json") == json.loads(at_limit)
    deeper = "[" * (MAX_JSON_DEPTH + 1) + "]" * (MAX_JSON_DEPTH + 1)
    with pytest.raises(InputError) as raised:
        parse_json_bytes(deeper.encode(), "x.json")
    assert str(raised.value) == f"x.json: {DEPTH_PROBLEM}"


def test_a_million_levels_are_refused_fast():
    started = time.perf_counter()
    with pytest.raises(InputError, match="nested more than"):
        parse_json_bytes(b"[" * 1_000_000 + b"]" * 1_000_000, "x.json")
    assert time.perf_counter() - started < 2.0


def test_size_limit_is_checked_before_reading(tmp_path):
    path = tmp_path / "big.json"
    path.write_text("[" + "0," * 1000 + "0]")
    with pytest.raises(InputError) as raised:
        read_json_file(path, max_bytes=1000)
    assert str(raised.value) == f"{path}: file is 2,003 bytes, more than the 1,000 allowed"


@pytest.mark.parametrize(
    ("content", "problem"),
    [
        (b'{"a": 1,}', "invalid JSON at line 1 column 9: Expecting property name"),
        (b'\xff{"a": 1}', "not a UTF-8 text file"),
    ],
)
def test_bad_json_is_one_input_error(tmp_path, content, problem):
    path = tmp_path / "bad.json"
    path.write_bytes(content)
    with pytest.raises(InputError, match=problem):
        read_json_file(path)


def test_missing_file(tmp_path):
    with pytest.raises(InputError, match="file not found"):
        read_json_file(tmp_path / "absent.json")


def glb_with_json_text(text: str) -> bytes:
    """A GLB of one JSON chunk holding ``text`` as written (glb_bytes would re-encode it)."""
    chunk = text.encode() + b" " * (-len(text) % 4)
    chunks = struct.pack("<II", len(chunk), 0x4E4F534A) + chunk
    return struct.pack("<4sII", b"glTF", 2, 12 + len(chunks)) + chunks


@pytest.mark.parametrize("suffix", [".gltf", ".glb"])
def test_deeply_nested_gltf_is_one_line_exit_2(tmp_path, capsys, suffix):
    document = json.dumps(one_triangle().doc)
    deep = document.replace('"asset"', f'"extras": {DEEP_VALUE}, "asset"', 1)
    path = tmp_path / f"deep{suffix}"
    if suffix == ".glb":
        path.write_bytes(glb_with_json_text(deep))
    else:
        path.write_text(deep)
    assert main(["asset", "info", str(path)]) == 2
    assert one_error_line(capsys) == f"avatar4d: error: {path}: {DEPTH_PROBLEM}"


def small_dataset(root: Path) -> Path:
    train = [frame(f"./train/r_{i}", 90.0 * i, 20.0, i / 4) for i in range(4)]
    return write_dataset(
        root, {"train": train}, scene={"bounds": {"center": [0, 1, 0], "radius": 1}}
    )


@pytest.mark.parametrize("name", ["transforms_train.json", "scene.json"])
def test_deeply_nested_dataset_json_is_one_line_exit_2(tmp_path, capsys, name):
    root = small_dataset(tmp_path / "data")
    assert main(["check", str(root), "--no-figure"]) == 0
    capsys.readouterr()
    document = json.loads((root / name).read_text())
    (root / name).write_text(json.dumps(document)[:-1] + f', "deep": {DEEP_VALUE}}}')
    assert main(["check", str(root), "--no-figure"]) == 2
    assert one_error_line(capsys) == f"avatar4d: error: {root / name}: {DEPTH_PROBLEM}"


def test_deeply_nested_camera_path_is_refused(tmp_path):
    path = tmp_path / "camera_path.json"
    path.write_text(f'{{"camera_path": {DEEP_VALUE}}}')
    with pytest.raises(InputError) as raised:
        load_nerfstudio_camera_path(path)
    assert str(raised.value) == f"{path}: {DEPTH_PROBLEM}"


def test_a_file_of_millions_of_tiny_values_is_refused_before_parsing(tmp_path, capsys):
    """``[[],[],...]``: 3 bytes a value in the file, some 60 in Python; 30 MB took 3 GB."""
    import tracemalloc

    root = small_dataset(tmp_path / "data")
    values = 10_000_000
    (root / "scene.json").write_text("[" + "[]," * (values - 1) + "[]]")
    tracemalloc.start()
    started = time.perf_counter()
    assert main(["check", str(root), "--no-figure"]) == 2
    elapsed = time.perf_counter() - started
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    line = one_error_line(capsys)
    assert line.startswith(f"avatar4d: error: {root / 'scene.json'}: ")
    assert "bytes, more than the" in line or "values, more than the" in line
    assert elapsed < 5 and peak < 400 * 2**20


def test_the_value_count_limit_is_exact():
    at_limit = b"[" + b"1," * 9 + b"1]"  # counted: 9 commas and 1 bracket
    assert parse_json_bytes(at_limit, "x.json", max_values=10) == [1] * 10
    with pytest.raises(InputError, match=r"x\.json: JSON holds about 10 values, more than the 9 "):
        parse_json_bytes(at_limit, "x.json", max_values=9)
    assert parse_json_bytes(b'["a,b,c,d,e"]', "x.json", max_values=1) == ["a,b,c,d,e"]
