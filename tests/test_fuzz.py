"""Seeded fuzzing: corrupted GLBs, datasets and run folders get a one-line refusal, never more.

Every command that reads the corrupted input must exit 0, or 2 with one ``avatar4d: error:``
line, or 1 where that means a stopped run or a failed ``check --strict``. More cases, or
another seed, locally: ``AVATAR4D_FUZZ_CASES=400 AVATAR4D_FUZZ_SEED=7 pytest tests/test_fuzz.py``;
or a campaign grouping the failures: ``python tests/fuzz_harness.py --cases 2000``.
"""

from __future__ import annotations

import os

import pytest
from fuzz_commands import dataset_commands, glb_commands, run_commands, run_in_process
from fuzz_harness import COMMAND_SECONDS, copy_run, run_cases
from fuzz_inputs import build_clean_inputs

SEED = int(os.environ.get("AVATAR4D_FUZZ_SEED", "0"))
CASES = int(os.environ.get("AVATAR4D_FUZZ_CASES", "16"))
TRAIN_EVERY = 2  # training commands in every other round of the four inputs


@pytest.fixture(scope="module")
def clean_inputs(tmp_path_factory):
    return build_clean_inputs(tmp_path_factory.mktemp("fuzz_clean"))


def test_clean_inputs_pass_every_command_with_exit_0(clean_inputs, tmp_path):
    run = copy_run(clean_inputs.run, tmp_path / "run", clean_inputs.dataset)
    commands = [
        *glb_commands(clean_inputs.glb, tmp_path / "demo"),
        *glb_commands(clean_inputs.small_glb, tmp_path / "small"),
        *dataset_commands(clean_inputs.dataset, run, tmp_path / "data", with_training=True),
        *run_commands(run, clean_inputs.dataset, tmp_path / "run_out", with_training=True),
    ]
    for command in commands:
        outcome = run_in_process(command.args, COMMAND_SECONDS)
        assert outcome.exception is None, (command.shown(tmp_path), outcome.exception)
        assert outcome.code == 0, (command.shown(tmp_path), outcome.stderr_lines)
    assert (tmp_path / "demo" / "grid" / "transforms_train.json").is_file()
    assert (tmp_path / "small" / "posed.ply").is_file()
    assert (tmp_path / "run_out" / "eval" / "metrics.json").is_file()
    assert len(list((tmp_path / "run_out" / "ply").glob("*.ply"))) == 2
    assert (run / "checkpoints" / "step_000006.json").is_file()  # resumed to the end


def test_corrupted_inputs_get_one_line_refusals(clean_inputs, tmp_path):
    results = run_cases(clean_inputs, SEED, range(CASES), tmp_path, TRAIN_EVERY)
    failing = [result.report() for result in results if result.failures]
    assert not failing, f"{len(failing)} of {CASES} fuzz cases failed:\n" + "\n".join(failing)
