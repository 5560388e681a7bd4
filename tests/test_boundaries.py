"""Who imports whom: the kiosk and the hub share only ``protocol``; drivers and protocol stand alone.

Every file's syntax tree is walked (imports inside functions and ``TYPE_CHECKING``
blocks count too); relative imports are resolved against the file's package.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
FORBIDDEN = {
    "hub": {"kiosk", "drivers"},
    "kiosk": {"hub"},
    "drivers": {"kiosk", "hub", "protocol"},
    "protocol": {"kiosk", "hub", "drivers"},
}


def imported_packages(path: Path, root: Path = ROOT) -> set[str]:
    """The top-level package of everything ``path`` (a module under ``root``) imports."""
    package = path.relative_to(root).with_suffix("").parts[:-1]
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
        if isinstance(node, ast.Import):
            found.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:  # relative: from the file's own package, up level - 1
                base = package[: len(package) - (node.level - 1)]
                found.add(base[0] if base else "")
            elif node.module:
                found.add(node.module.split(".")[0])
    return found


@pytest.mark.parametrize("top", sorted(FORBIDDEN))
def test_no_package_imports_across_its_boundary(top: str) -> None:
    files = sorted((ROOT / top).rglob("*.py"))
    assert files, f"no modules under {top}/"
    crossings = {str(f.relative_to(ROOT)): sorted(imported_packages(f) & FORBIDDEN[top]) for f in files}
    assert {f: bad for f, bad in crossings.items() if bad} == {}


def test_the_walk_sees_every_kind_of_import(tmp_path: Path) -> None:
    probe = tmp_path / "hub" / "deep" / "probe.py"
    probe.parent.mkdir(parents=True)
    probe.write_text(
        "import json\nfrom typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    import kiosk.sync\n"
        "def f():\n    from drivers.machine import Flag\n    from .. import sync\n",
        encoding="utf-8",
    )
    assert imported_packages(probe, tmp_path) == {"json", "typing", "kiosk", "drivers", "hub"}
