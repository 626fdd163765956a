"""Fuzz cases: corrupt one clean input, push it through every command that reads it.

Case ``k`` of seed ``s`` corrupts the demo GLB, the dataset, the run or the small GLB (k mod 4)
with a mutation drawn from ``numpy.random.default_rng([s, k])``, so any case can be replayed
alone. Also a campaign runner for longer sessions than the test's, grouping the failures by
exception type and the place that raised it::

    PYTHONPATH=src python tests/fuzz_harness.py --cases 2000 --seed 1
    PYTHONPATH=src python tests/fuzz_harness.py --seed 1 --case 417   # replay one case
"""

from __future__ import annotations

import argparse
import json
import re
import shutil
import sys
import tempfile
import time
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from fuzz_commands import (
    Outcome,
    dataset_commands,
    glb_commands,
    problem_with,
    run_commands,
    run_in_process,
)
from fuzz_inputs import CleanInputs, build_clean_inputs
from fuzz_mutations import Mutation, pick_and_mutate

TARGETS = ("glb", "dataset", "run", "small_glb")
COMMAND_SECONDS = 30.0


@dataclass(frozen=True)
class Failure:
    command: str
    problem: str
    outcome: Outcome


@dataclass
class CaseResult:
    seed: int
    case: int
    target: str
    mutation: Mutation
    failures: list[Failure] = field(default_factory=list)

    def report(self) -> str:
        head = f"seed {self.seed} case {self.case} ({self.target}): {self.mutation.describe()}"
        body = [f"    {f.command}\n        -> {f.problem}" for f in self.failures]
        replay = f"    replay: python tests/fuzz_harness.py --seed {self.seed} --case {self.case}"
        return "\n".join([head, *body, replay])


def run_case(
    clean: CleanInputs,
    seed: int,
    case: int,
    work: Path,
    with_training: bool,
    seconds: float = COMMAND_SECONDS,
) -> CaseResult:
    """Corrupt a copy of one clean input in ``work/case_K`` and run its commands there."""
    rng = np.random.default_rng([seed, case])
    target = TARGETS[case % len(TARGETS)]
    case_dir = work / f"case_{case:05d}"  # unique per case: no reader caches a stale file
    case_dir.mkdir(parents=True)
    out = case_dir / "out"
    if target in ("glb", "small_glb"):
        source = clean.glb if target == "glb" else clean.small_glb
        glb = Path(shutil.copy(source, case_dir / source.name))
        mutation = pick_and_mutate(rng, case_dir, {glb.name: 1.0})
        commands = glb_commands(glb, out)
    elif target == "dataset":
        dataset = Path(shutil.copytree(clean.dataset, case_dir / "data"))
        run = copy_run(clean.run, case_dir / "run", dataset)
        mutation = pick_and_mutate(rng, dataset, clean.dataset_files())
        commands = dataset_commands(dataset, run, out, with_training)
    else:
        run = copy_run(clean.run, case_dir / "run", clean.dataset)
        mutation = pick_and_mutate(rng, run, clean.run_files())
        commands = run_commands(run, clean.dataset, out, with_training)
    result = CaseResult(seed, case, target, mutation)
    for command in commands:
        outcome = run_in_process(command.args, seconds)
        problem = problem_with(outcome, command)
        if problem is not None:
            result.failures.append(Failure(command.shown(case_dir), problem, outcome))
    return result


def copy_run(run: Path, to: Path, dataset: Path) -> Path:
    """A copy of the run whose config.yml names ``dataset`` (as if the data had moved)."""
    shutil.copytree(run, to)
    config = to / "config.yml"
    text = re.sub(
        r"^dataset: .*$", f"dataset: {json.dumps(str(dataset))}", config.read_text(), flags=re.M
    )
    config.write_text(text)
    return to


def run_cases(
    clean: CleanInputs,
    seed: int,
    cases: range,
    work: Path,
    train_every: int,
    seconds: float = COMMAND_SECONDS,
    on_case=None,
    deadline: float | None = None,
) -> list[CaseResult]:
    """Run the cases; training commands only every ``train_every``-th round of targets.

    ``deadline`` (a ``time.monotonic()`` value): no case is started after it.
    """
    results = []
    for case in cases:
        if deadline is not None and time.monotonic() > deadline:
            break
        with_training = (case // len(TARGETS)) % train_every == 0
        result = run_case(clean, seed, case, work, with_training, seconds)
        shutil.rmtree(work / f"case_{case:05d}", ignore_errors=True)
        results.append(result)
        if on_case is not None:
            on_case(result)
    return results


# --- the campaign's summary ----------------------------------------------------------------


def failure_group(failure: Failure) -> str:
    """Exception type and the place it was raised; else the command and the kind of outcome."""
    outcome, command = failure.outcome, failure.command.split()[1]
    if outcome.exception is not None:
        if outcome.exception.startswith("hang"):
            return f"hang in {command}"
        kind = outcome.exception.split(":")[0]
        return f"{kind} at {outcome.raised_at}"
    first = outcome.stderr_lines[0][:40] if outcome.stderr_lines else ""
    return f"{command}: exit {outcome.code}, {len(outcome.stderr_lines)} stderr lines: {first}"


def print_summary(results: list[CaseResult], seconds: float) -> None:
    groups: dict[str, list[tuple[CaseResult, Failure]]] = defaultdict(list)
    for result in results:
        for failure in result.failures:
            groups[failure_group(failure)].append((result, failure))
    failing = sum(1 for r in results if r.failures)
    print(f"\n{len(results)} cases in {seconds:.0f} s: {failing} failing, {len(groups)} groups\n")
    for group, members in sorted(groups.items(), key=lambda item: -len(item[1])):
        commands = sorted({f.command.split()[1] for _, f in members})
        files = sorted({r.mutation.file for r, _ in members})
        print(f"== {group}  [{len(members)} failures; {', '.join(commands)}; {', '.join(files)}]")
        for result, failure in members[:3]:
            print(f"   seed {result.seed} case {result.case}: {result.mutation.describe()}")
            print(f"      {failure.command}\n      -> {failure.problem}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--cases", type=int, default=300)
    parser.add_argument("--first", type=int, default=0, help="index of the first case")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--case", type=int, default=None, help="replay this case only")
    parser.add_argument("--train-every", type=int, default=4, help="training in 1 of N rounds")
    parser.add_argument("--seconds", type=float, default=COMMAND_SECONDS, help="per command")
    parser.add_argument("--work", type=Path, default=None, help="folder (default: a temp one)")
    parser.add_argument("--minutes", type=float, default=None, help="start no case after this")
    args = parser.parse_args(argv)
    work = args.work or Path(tempfile.mkdtemp(prefix="avatar4d_fuzz_"))
    started = time.perf_counter()
    clean = build_clean_inputs(work / "clean")
    print(f"clean inputs built in {time.perf_counter() - started:.1f} s under {work}", flush=True)
    cases = (
        range(args.case, args.case + 1)
        if args.case is not None
        else range(args.first, args.first + args.cases)
    )
    train_every = 1 if args.case is not None else args.train_every

    def progress(result: CaseResult) -> None:
        if args.case is not None:
            print(result.report() if result.failures else result.mutation.describe())
        elif result.failures:
            print(result.report(), flush=True)  # at once: a killed campaign keeps its findings

    started = time.perf_counter()
    deadline = None if args.minutes is None else time.monotonic() + 60 * args.minutes
    results = run_cases(
        clean, args.seed, cases, work / "cases", train_every, args.seconds, progress, deadline
    )
    print_summary(results, time.perf_counter() - started)
    if args.work is None:
        shutil.rmtree(work, ignore_errors=True)
    return 1 if any(r.failures for r in results) else 0


if __name__ == "__main__":
    sys.exit(main())
