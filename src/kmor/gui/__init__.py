"""kmor.gui: the lab window (PySide6 + pyqtgraph) over the sequence engine.

A front end only: acquisition runs in the engine's thread through `kmor.sequences.runner.run_batch`
(the same function as `kmor run`), fits and reports come from `kmor.analysis`. Start it with
`kmor gui [--config LAB.toml]` or `kmor.gui.app.main(config_path, speed)`.
"""

from kmor.gui.immortal import immortalize_singletons

immortalize_singletons()  # before any Qt object exists: see kmor/gui/immortal.py
