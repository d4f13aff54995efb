"""docs/scripting.md's walk-through runs as written, against the simulated lab."""

from __future__ import annotations

import re
from pathlib import Path

DOC = Path(__file__).resolve().parents[1] / "docs" / "scripting.md"
BATCH = """
[batch]
name = "doc"

[[steps]]
kind = "bscan"
field_range_uG = 6.0
step_uG = 2.0
"""


def test_every_python_block_of_the_scripting_doc_runs(tmp_path, capsys):
    blocks = re.findall(r"```python\n(.*?)```", DOC.read_text(encoding="utf-8"), flags=re.S)
    assert len(blocks) >= 8
    batch = tmp_path / "doc.toml"
    batch.write_text(BATCH)
    namespace = {"DATA_DIR": tmp_path / "data", "BATCH_FILE": batch}
    try:
        for n, block in enumerate(blocks):
            exec(compile(block, f"{DOC.name}[block {n}]", "exec"), namespace)
    finally:
        lab = namespace.get("lab")
        if lab is not None:
            lab.close()
    out = capsys.readouterr().out
    assert "NmorFit(width_uG=" in out and "complete" in out
    fit = namespace["fit"]
    assert 0.5 < fit.width_uG < 20
    assert (namespace["lab"].run_dir / "bscan.png").stat().st_size > 1000
    assert namespace["result"].status == "complete"
    sim_fields = namespace["lab"].station.sim.coil_fields_uG()
    assert all(abs(v) < 1e-9 for v in sim_fields.values())
