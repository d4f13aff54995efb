"""The import graph has no edge going up: each layer imports only the layers below it
(docs/architecture.md). Lazy imports that reach up on purpose are listed in EXCEPTIONS."""

from __future__ import annotations

import ast
from pathlib import Path

SRC = Path(__file__).resolve().parents[1] / "src" / "kmor"

ALLOWED = {
    "config": {"config"},
    "storage": {"storage"},
    "analysis": {"analysis", "storage"},   # one reader of the scan files and the queue journal
    "drivers": {"drivers", "config"},
    "sim": {"sim", "config", "storage"},
    "sequences": {"sequences", "storage", "config", "drivers.errors", "drivers.sr830"},
    "station": {"station", "drivers", "sim", "config", "sequences.protocols"},
    "lab": {"lab", "station", "sequences", "sim", "config", "storage"},
    "gui": {"gui", "lab", "station", "sequences", "storage", "analysis", "config", "sim", "drivers"},
    "watch": {"watch", "storage", "analysis", "config"},
    "cli_output": {"cli_output"},
    "cli": {"cli", "cli_output", "watch", "lab", "station", "sequences", "storage", "analysis", "config", "sim", "drivers", "gui"},
    "__main__": {"cli"},
}
EXCEPTIONS = {
    ("sequences.runner", "lab"),        # run_batch without a station builds one (kmor run)
    ("sequences.zeroing", "analysis"),  # the zeroing fits its Bz lineshapes
    ("config.model", "sim.physics.params"),  # [sim.physics] of the config is the physics' own dataclass
}


def _layer(module: str) -> str:
    return module.split(".")[0]


def _imports(path: Path) -> set[str]:
    """kmor modules imported by `path` (absolute imports; `import kmor` itself is free)."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and node.level == 0 and node.module and node.module.startswith("kmor."):
            found.add(node.module[len("kmor."):])
        elif isinstance(node, ast.Import):
            found |= {a.name[len("kmor."):] for a in node.names if a.name.startswith("kmor.")}
    return found


def _allowed(source: str, target: str) -> bool:
    rules = ALLOWED[_layer(source)]
    return any(target == rule or target.startswith(rule + ".") for rule in rules) or \
        any(source.startswith(s) and (target == t or target.startswith(t + ".")) for s, t in EXCEPTIONS)


def test_no_import_goes_up_a_layer():
    upward = []
    for path in sorted(SRC.rglob("*.py")):
        module = ".".join(path.relative_to(SRC).with_suffix("").parts)
        if module in ("__init__",):
            continue
        for target in sorted(_imports(path)):
            if not _allowed(module, target):
                upward.append(f"{module} -> {target}")
    assert upward == []
