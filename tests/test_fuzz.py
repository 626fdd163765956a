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
from fuzz_harness import COMMAND_SECONDS, copy_run, run_case, run_cases
from fuzz_inputs import build_clean_inputs

SEED = int(os.environ.get("AVATAR4D_FUZZ_SEED", "0"))
CASES = int(os.environ.get("AVATAR4D_FUZZ_CASES", "16"))
TRAIN_EVERY = 2  # training commands in every other round of the four inputs

# Cases that failed in the campaigns of FUZZ_FINDINGS.md (issue 18), one per distinct failure,
# replayed on every run so that each stays fixed: (seed, case, name, the mutation it makes).
# The mutation is checked too: should the clean inputs change so that a case corrupts something
# else, the test says so instead of passing without testing the finding. (The checkpoint JSON
# gained a key since the campaigns; the cases that then drifted, a checkpoint without rng and
# strategy_scalars not a mapping, are pinned by tests/test_run_loading.py's damaged entries.)
PAST_FINDINGS = [
    (2, 55, "glb-json-nested-too-deep", "small.glb: edit-json-chunk (.asset.generator:"),
    # case 3341 (.software.name) moved when scene.json gained "clips" and "asset"
    (2, 6617, "scene-json-nested-too-deep", "scene.json: edit-json (.software.version:"),
    (2, 3150, "checkpoint-json-nested-too-deep", "checkpoints/step_000004.json: edit-json (.step:"),
    (2, 174, "config-yml-nested-too-deep", "config.yml: edit-yaml (.model.periodic:"),
    (
        2,
        642,
        "checkpoint-parameters-not-a-mapping",
        "checkpoints/step_000004.json: edit-json (.parameters:",
    ),
    (
        2,
        1746,
        "checkpoint-python-rng-not-a-mapping",
        "checkpoints/step_000004.json: edit-json (.rng.python:",
    ),
    (
        2,
        3074,
        "checkpoint-numpy-rng-kind-missing",
        "checkpoints/step_000004.json: edit-json (deleted .rng.numpy.kind",
    ),
    (2, 3098, "config-yml-train-settings-missing", "config.yml: edit-yaml (.train:"),
    (
        2,
        574,
        "config-yml-control-points-unlike-checkpoint",
        # 4 -> 4000012 before the motion settings were nested (the same case, a new path)
        "config.yml: edit-yaml (.model.motion.control_points: 4 -> ",
    ),
    (
        2,
        933,
        "dataset-file-path-too-long",
        "transforms_test.json: edit-json (.frames[1].file_path:",
    ),
    (2, 686, "config-yml-dataset-path-too-long", "config.yml: edit-yaml (.dataset:"),
    (
        2,
        153,
        "eval-test-image-16-bit-header",
        "test/novel_view_c08_t000.png: edit-ihdr (IHDR 16x16, bit depth 16",
    ),
    (
        2,
        859,
        "grid-glb-without-visible-surface",
        "small.glb: edit-json-chunk (.nodes[0].translation[0]: 0 -> 9223372036854775808)",
    ),
    (2, 3600, "glb-normals-overflow", "demo.glb: flip at byte 34646 (byte 501819 ^= 0xca"),
    (
        5,
        49,
        "eval-test-image-of-another-size",
        "test/novel_view_c08_t000.png: edit-ihdr (IHDR 1x16, bit depth 8",
    ),
]


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


@pytest.mark.parametrize(
    ("seed", "case", "mutation"),
    [(seed, case, mutation) for seed, case, _, mutation in PAST_FINDINGS],
    ids=[name for _, _, name, _ in PAST_FINDINGS],
)
def test_past_findings_get_one_line_refusals(clean_inputs, tmp_path, seed, case, mutation):
    result = run_case(clean_inputs, seed, case, tmp_path, with_training=True)
    assert result.mutation.describe().startswith(mutation), (
        f"the clean inputs changed: seed {seed} case {case} now makes "
        f"{result.mutation.describe()}; take this finding's case from a new campaign"
    )
    assert not result.failures, result.report()


def test_corrupted_inputs_get_one_line_refusals(clean_inputs, tmp_path):
    results = run_cases(clean_inputs, SEED, range(CASES), tmp_path, TRAIN_EVERY)
    failing = [result.report() for result in results if result.failures]
    assert not failing, f"{len(failing)} of {CASES} fuzz cases failed:\n" + "\n".join(failing)
