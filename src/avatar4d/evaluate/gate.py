"""Quality gates on metrics.json: ``novel_view.psnr>=30``, ``train.psnr<40``, ...

A gate compares a subset's metric mean with a threshold. A gate whose value is missing from
the results (a subset that was not evaluated, LPIPS not computed, no finite mean) fails: a
gate that cannot be checked must not pass silently.
"""

from __future__ import annotations

import math
import operator
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from avatar4d.dataset_format import TEST_SUBSETS
from avatar4d.errors import InputError
from avatar4d.evaluate.results import DEFAULT_SUBSET, METRIC_NAMES

TRAIN = "train"
GATE_SUBSETS = (*TEST_SUBSETS, DEFAULT_SUBSET)
TRAIN_METRICS = ("psnr",)

_OPERATORS: dict[str, Callable[[float, float], bool]] = {
    ">=": operator.ge,
    ">": operator.gt,
    "<=": operator.le,
    "<": operator.lt,
}
_NUMBER = r"[-+]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][-+]?\d+)?"
_GATE_PATTERN = re.compile(rf"^\s*(\w+)\.(\w+)\s*(>=|<=|>|<)\s*({_NUMBER})\s*$")

_ALLOWED = (
    f"write SUBSET.METRIC OP VALUE, e.g. novel_view.psnr>=30; SUBSET is one of "
    f"{', '.join(GATE_SUBSETS)} (metrics {', '.join(METRIC_NAMES)}) or train (metric psnr); "
    f"OP is one of {', '.join(_OPERATORS)}"
)


@dataclass(frozen=True)
class Gate:
    subset: str  # a test subset, or "train"
    metric: str
    op: str
    threshold: float
    expression: str  # as the user wrote it

    def __str__(self) -> str:
        return f"{self.subset}.{self.metric}{self.op}{self.threshold:g}"


@dataclass(frozen=True)
class GateResult:
    gate: Gate
    passed: bool
    actual: float | None  # None when the value is not in the results
    message: str


def parse_gate(expression: str) -> Gate:
    """Parse ``SUBSET.METRIC OP VALUE``; InputError naming the expression when malformed."""
    where = f"gate {expression!r}"
    match = _GATE_PATTERN.match(expression)
    if match is None:
        raise InputError(where, f"cannot parse it; {_ALLOWED}")
    subset, metric, op, value = match.groups()
    if subset == TRAIN:
        if metric not in TRAIN_METRICS:
            raise InputError(where, f"train has only the metric psnr, not {metric!r}; {_ALLOWED}")
    elif subset not in GATE_SUBSETS:
        raise InputError(where, f"unknown subset {subset!r}; {_ALLOWED}")
    elif metric not in METRIC_NAMES:
        raise InputError(where, f"unknown metric {metric!r}; {_ALLOWED}")
    threshold = float(value)
    if not math.isfinite(threshold):
        raise InputError(where, f"the threshold {value} is not a finite number")
    return Gate(subset, metric, op, threshold, expression.strip())


def _lookup(metrics: dict, gate: Gate) -> tuple[float | None, str]:
    """(mean, why it is missing)."""
    if gate.subset == TRAIN:
        section = metrics.get(TRAIN, {})
    else:
        subsets = metrics.get("subsets", {})
        if gate.subset not in subsets:
            have = ", ".join(subsets) or "none"
            return None, f"subset {gate.subset} is not in the results (have: {have})"
        section = subsets[gate.subset]
    entry = section.get(gate.metric)
    if not isinstance(entry, dict):
        return None, f"{gate.subset}.{gate.metric} was {entry or 'not computed'}"
    mean = entry.get("mean")
    if not isinstance(mean, (int, float)) or not math.isfinite(mean):
        return None, f"{gate.subset}.{gate.metric} has no value"
    return float(mean), ""


def check_gates(metrics: dict, gates: Sequence[Gate]) -> list[GateResult]:
    """Check each gate against a metrics.json dict (as ``metrics_json_dict`` returns)."""
    results = []
    for gate in gates:
        actual, missing = _lookup(metrics, gate)
        if actual is None:
            results.append(GateResult(gate, False, None, f"FAIL {gate}: {missing}"))
            continue
        passed = _OPERATORS[gate.op](actual, gate.threshold)
        verdict = "pass" if passed else "FAIL"
        message = f"{verdict} {gate}: actual {actual:.4g}"
        results.append(GateResult(gate, passed, actual, message))
    return results
