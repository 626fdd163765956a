"""Imports only go down the data flow: every module of src/avatar4d imports its own layer and
the layers below it, never a later stage (docs/design.md).

Module-level and function-level imports count alike: a lazy import still makes the lower
stage depend on the higher one.
"""

from __future__ import annotations

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[1] / "src" / "avatar4d"

# The layers, lowest first: the order in which data flows from a character to a video. A name
# is a top-level module or package of avatar4d ("avatar4d" is the package's own __init__, for
# __version__). raster/ sits below model/ because model/render.py rasterises; raster/ imports
# no model code. run/ (run folders, checkpoints, the trained model) sits below train/ so that
# evaluate/ and output/ load a run without the training code.
LAYERS: tuple[tuple[str, ...], ...] = (
    ("avatar4d", "errors", "dataset_format", "settings_checks"),
    ("io",),
    ("asset",),
    ("capture",),
    ("data",),
    ("raster",),
    ("model",),
    ("run",),
    ("train",),
    ("evaluate",),
    ("output",),
    ("commands",),
    ("cli", "cli_failures", "cli_parsing"),
)


def _module_name(path: Path, package: Path) -> str:
    parts = path.relative_to(package.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _imported_modules(node: ast.AST, module: str, is_package: bool) -> list[str]:
    """The absolute module names one import statement names: ``from avatar4d.x.y import z``
    names ``avatar4d.x.y``; ``from avatar4d import x`` names ``avatar4d.x`` (x may be a
    top-level module; a name that is not one counts as the package itself)."""
    if isinstance(node, ast.Import):
        return [alias.name for alias in node.names]
    if not isinstance(node, ast.ImportFrom):
        return []
    base = node.module or ""
    if node.level:
        anchor = module.split(".") if is_package else module.split(".")[:-1]
        anchor = anchor[: len(anchor) - (node.level - 1)]
        base = ".".join([*anchor, base] if base else anchor)
    if "." in base:
        return [base]
    return [f"{base}.{alias.name}" for alias in node.names]


def _top_name(imported: str, root: str, tops: set[str]) -> str | None:
    """The avatar4d top-level module an import reaches, or None when it is not avatar4d's."""
    parts = imported.split(".")
    if parts[0] != root:
        return None
    if len(parts) > 1 and parts[1] in tops:
        return parts[1]
    return root


def backward_imports(package: Path, layers: tuple[tuple[str, ...], ...]) -> list[str]:
    """``file:line -> module (layer imports layer)`` for every import of a later layer, and
    one line for each top-level module that is in no layer."""
    root = package.name
    layer_of = {name: index for index, names in enumerate(layers) for name in names}
    tops = {p.stem for p in package.glob("*.py") if p.stem != "__init__"}
    tops |= {p.name for p in package.iterdir() if (p / "__init__.py").is_file()}
    problems = [f"{name}: in no layer (add it to LAYERS)" for name in sorted(tops - set(layer_of))]
    for path in sorted(package.rglob("*.py")):
        module = _module_name(path, package)
        own = _top_name(module, root, tops)
        if own not in layer_of:
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
            for imported in _imported_modules(node, module, path.name == "__init__.py"):
                target = _top_name(imported, root, tops)
                if target in layer_of and layer_of[target] > layer_of[own]:
                    where = path.relative_to(package.parent.parent)
                    problems.append(f"{where}:{node.lineno} -> {imported} ({own} imports {target})")
    return problems


def test_imports_only_go_down_the_data_flow() -> None:
    problems = backward_imports(PACKAGE, LAYERS)
    assert not problems, "imports against the data flow:\n" + "\n".join(problems)


def test_every_layer_names_an_existing_module() -> None:
    tops = {p.stem for p in PACKAGE.glob("*.py")} | {
        p.name for p in PACKAGE.iterdir() if (p / "__init__.py").is_file()
    }
    tops.add(PACKAGE.name)
    assert [name for names in LAYERS for name in names if name not in tops] == []


def _write(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")


def test_the_check_reports_every_backward_import(tmp_path: Path) -> None:
    """The checker itself: module-level, function-level, relative and ``from pkg import sub``
    imports against the order are each reported with file and line; downward ones are not."""
    package = tmp_path / "src" / "pkg"
    _write(package / "__init__.py", "VERSION = 1\n")
    _write(package / "low" / "__init__.py", "")
    _write(package / "high" / "__init__.py", "")
    _write(package / "high" / "b.py", "from pkg.low import a\nfrom pkg import VERSION\n")
    _write(package / "stray.py", "")
    _write(
        package / "low" / "a.py",
        "import pkg.high.b\n"
        "from pkg import high\n"
        "def f():\n"
        "    from ..high.b import thing\n"
        "    return thing\n"
        "from pkg.low import a\n",
    )
    layers = (("pkg",), ("low",), ("high",))
    assert backward_imports(package, layers) == [
        "stray: in no layer (add it to LAYERS)",
        "src/pkg/low/a.py:1 -> pkg.high.b (low imports high)",
        "src/pkg/low/a.py:2 -> pkg.high (low imports high)",
        "src/pkg/low/a.py:4 -> pkg.high.b (low imports high)",
    ]
