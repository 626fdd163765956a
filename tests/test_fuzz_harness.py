"""The fuzz harness itself: mutations replay exactly, the judge keeps the CLI's promise."""

from __future__ import annotations

import json
import struct
import time

import fuzz_commands
import numpy as np
import pytest
from fuzz_commands import FuzzCommand, Outcome, problem_with, run_in_process
from fuzz_inputs import write_small_skinned_glb
from fuzz_mutations import edit_glb_json, mutate_file

from avatar4d.asset.loader import load_asset


def test_the_small_glb_is_a_skinned_moving_character(tmp_path):
    asset = load_asset(write_small_skinned_glb(tmp_path / "small.glb"))
    start, bent = asset.pose("wave", 0.0), asset.pose("wave", 0.5)
    assert np.abs(bent.parts[0].positions - start.parts[0].positions).max() > 0.5


def test_same_seed_and_case_give_the_same_corruption(tmp_path):
    copies = []
    for name in ("a", "b", "c"):
        (tmp_path / name).mkdir()
        write_small_skinned_glb(tmp_path / name / "small.glb")
    for name, case in (("a", 5), ("b", 5), ("c", 6)):
        mutation = mutate_file(np.random.default_rng([0, case]), tmp_path / name, "small.glb")
        copies.append((mutation, (tmp_path / name / "small.glb").read_bytes()))
    assert copies[0] == copies[1]
    assert copies[2][1] != copies[0][1]


def glb_chunks(glb: bytes) -> tuple[bytes, bytes]:
    json_length = struct.unpack_from("<I", glb, 12)[0]
    return glb[20 : 20 + json_length], glb[20 + json_length :]


@pytest.mark.parametrize("case", range(8))
def test_an_edited_glb_keeps_consistent_chunk_lengths(tmp_path, case):
    data = write_small_skinned_glb(tmp_path / "small.glb").read_bytes()
    edited, detail = edit_glb_json(np.random.default_rng(case), data)
    assert struct.unpack_from("<I", edited, 8)[0] == len(edited)
    text, binary = glb_chunks(edited)
    assert binary == glb_chunks(data)[1]
    assert len(text) % 4 == 0
    if "nested lists" not in detail:
        assert json.loads(text) != json.loads(glb_chunks(data)[0])


def test_the_judge_accepts_exit_0_and_one_error_line():
    command = FuzzCommand(["check", "x"])
    assert problem_with(Outcome(0, ["rendering ━━ 3/3"]), command) is None
    assert problem_with(Outcome(2, ["avatar4d: error: x: bad"]), command) is None


@pytest.mark.parametrize(
    ("outcome", "may_exit_1", "expected"),
    [
        (Outcome(2, ["bar 0/5", "avatar4d: error: x: bad"]), False, "exit 2 with 2 stderr lines"),
        (Outcome(2, ["Traceback (most recent call last):"]), False, "exit 2 with 1 stderr lines"),
        (Outcome(2, []), False, "exit 2 with 0 stderr lines"),
        (Outcome(1, ["avatar4d: training stopped"]), False, "exit 1 with 1 stderr lines"),
        (Outcome(1, ["a", "b"]), True, "exit 1 with 2 stderr lines"),
        (Outcome(3, []), True, "exit 3"),
        (Outcome(None, [], "TypeError: x", "avatar4d/a.py:3"), False, "TypeError: x raised at"),
    ],
)
def test_the_judge_rejects_everything_else(outcome, may_exit_1, expected):
    assert problem_with(outcome, FuzzCommand(["eval", "x"], may_exit_1)).startswith(expected)
    assert problem_with(Outcome(1, []), FuzzCommand(["check", "x"], may_exit_1=True)) is None


def test_an_escaping_exception_is_reported_with_the_line_that_raised(monkeypatch):
    def broken(args):
        return {}["missing"]

    monkeypatch.setattr(fuzz_commands, "main", broken)
    outcome = run_in_process(["check", "x"], 5)
    assert outcome.exception == "KeyError: 'missing'"
    line = broken.__code__.co_firstlineno + 1
    assert outcome.raised_at == f"? (in test_fuzz_harness.py:{line})"


def test_a_hanging_command_is_stopped_and_reported(monkeypatch):
    monkeypatch.setattr(fuzz_commands, "main", lambda args: time.sleep(10))
    started = time.monotonic()
    outcome = run_in_process(["check", "x"], 0.3)
    assert time.monotonic() - started < 2
    assert outcome.exception == "hang: still running after 0.3 s"


def test_a_printed_warning_counts_as_a_line_of_stderr(monkeypatch):
    def warns_then_refuses(args):
        np.float64(1e308) * 10  # RuntimeWarning: overflow
        return real_main(["check", "/nonexistent/dataset"])

    real_main = fuzz_commands.main
    monkeypatch.setattr(fuzz_commands, "main", warns_then_refuses)
    outcome = run_in_process(["check", "x"], 5)
    assert outcome.code == 2
    assert outcome.stderr_lines[0].startswith("avatar4d: error: /nonexistent/dataset")
    assert outcome.stderr_lines[1].startswith("RuntimeWarning: overflow")
    assert problem_with(outcome, FuzzCommand(["check"])).startswith("exit 2 with 2 stderr lines")
