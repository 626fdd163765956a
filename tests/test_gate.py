"""Quality gates: parsing, refusing malformed expressions, and pass/fail on metrics.json."""

from __future__ import annotations

import pytest

from avatar4d.errors import InputError
from avatar4d.evaluate.gate import Gate, check_gates, parse_gate

METRICS = {
    "subsets": {
        "novel_view": {
            "psnr": {"mean": 30.5, "ci95": [30.0, 31.0], "n": 96},
            "fg_psnr": {"mean": 22.0, "ci95": [21.5, 22.5], "n": 96},
            "ssim": {"mean": 0.962, "ci95": [0.96, 0.964], "n": 96},
            "lpips": "not computed",
        },
        "novel_time": {
            "psnr": {"mean": 29.0, "ci95": [28.5, 29.5], "n": 96},
            "fg_psnr": {"mean": None, "ci95": [None, None], "n": 0},
            "ssim": {"mean": 0.95, "ci95": [0.94, 0.96], "n": 96},
            "lpips": {"mean": 0.08, "ci95": [0.07, 0.09], "n": 96},
        },
    },
    "train": {"psnr": {"mean": 36.0, "ci95": [35.5, 36.5], "n": 32}},
    "gap_db": {"novel_view": 5.5, "novel_time": 7.0},
    "notes": [],
}


def test_parse_gate_forms():
    assert parse_gate("novel_view.psnr>=30") == Gate(
        "novel_view", "psnr", ">=", 30.0, "novel_view.psnr>=30"
    )
    gate = parse_gate("  novel_both.lpips < 0.1 ")
    assert (gate.subset, gate.metric, gate.op, gate.threshold) == ("novel_both", "lpips", "<", 0.1)
    assert parse_gate("train.psnr<=40.5").threshold == 40.5
    assert parse_gate("test.ssim>9e-1").threshold == pytest.approx(0.9)
    assert str(parse_gate("novel_time.fg_psnr > 20")) == "novel_time.fg_psnr>20"


@pytest.mark.parametrize(
    ("expression", "problem"),
    [
        ("novel_view.psnr=30", "cannot parse"),
        ("novel_view.psnr==30", "cannot parse"),
        ("novel_view psnr>=30", "cannot parse"),
        ("novel_view.psnr>=", "cannot parse"),
        ("novel_view.psnr>=thirty", "cannot parse"),
        ("", "cannot parse"),
        ("novel_views.psnr>=30", "unknown subset 'novel_views'"),
        ("novel_view.mse<0.01", "unknown metric 'mse'"),
        ("train.ssim>0.9", "train has only the metric psnr"),
        ("novel_view.psnr>=1e999", "not a finite number"),
    ],
)
def test_malformed_gates_name_expression_and_allowed(expression, problem):
    with pytest.raises(InputError) as raised:
        parse_gate(expression)
    assert raised.value.where == f"gate {expression!r}"
    assert problem in raised.value.problem
    if problem != "not a finite number":
        assert "novel_view, novel_time, novel_both, novel_pose, test" in raised.value.problem
        assert ">=, >, <=, <" in raised.value.problem


def test_check_gates_pass_and_fail():
    gates = [
        parse_gate("novel_view.psnr>=30"),
        parse_gate("novel_view.psnr>30.5"),  # equal is not greater
        parse_gate("novel_time.lpips<0.1"),
        parse_gate("train.psnr<=35"),
        parse_gate("novel_view.ssim>=0.95"),
    ]
    results = check_gates(METRICS, gates)
    assert [r.passed for r in results] == [True, False, True, False, True]
    assert [r.actual for r in results] == [30.5, 30.5, 0.08, 36.0, 0.962]
    assert results[0].message == "pass novel_view.psnr>=30: actual 30.5"
    assert results[3].message == "FAIL train.psnr<=35: actual 36"
    exit_code = 0 if all(r.passed for r in results) else 1
    assert exit_code == 1


def test_gates_that_cannot_be_checked_fail():
    results = check_gates(
        METRICS,
        [
            parse_gate("novel_view.lpips<0.2"),
            parse_gate("novel_both.psnr>=20"),
            parse_gate("novel_time.fg_psnr>=10"),
            parse_gate("train.psnr>=1"),
        ],
    )
    assert [r.passed for r in results[:3]] == [False, False, False]
    assert all(r.actual is None for r in results[:3])
    assert "was not computed" in results[0].message
    assert "subset novel_both is not in the results (have: novel_view, novel_time)" in (
        results[1].message
    )
    assert "has no value" in results[2].message
    assert results[3].passed

    no_train = {**METRICS, "train": {"psnr": "not computed"}}
    (result,) = check_gates(no_train, [parse_gate("train.psnr>=1")])
    assert not result.passed and "not computed" in result.message
