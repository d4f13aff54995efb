"""kmor.sequences: the engine that runs the experiment, and the sequences it runs.

    from kmor.sequences import check_batch, run_batch, TextProgress
    batch = check_batch("config/sequences/paper.toml", load_config())   # validate, estimate
    result = run_batch("config/sequences/paper.toml", load_config(), progress=TextProgress())
    result = run_batch(None, load_config(), resume_dir=result.run_dir)   # continue after a crash

The engine (engine.Engine) runs a sequence in one acquisition thread with pause/resume/abort,
suspenders (laser lock lost, counter reference missing, instrument timeouts) and events; the
sequences (laser, lock, lockpoint, zeroing, bscan, rfscan) see the apparatus only through the
protocols in protocols.py. See docs/sequences.md.
"""

from kmor.sequences.batch import Batch, Job, load_batch, step_reference_markdown
from kmor.sequences.engine import Engine, RunOutcome, Terminated
from kmor.sequences.errors import Aborted, LockFailed, SequenceError
from kmor.sequences.events import Event, EventBus
from kmor.sequences.progress import TextProgress
from kmor.sequences.runner import BatchResult, check_batch, run_batch

__all__ = [
    "Aborted", "Batch", "BatchResult", "Engine", "Event", "EventBus", "Job", "LockFailed",
    "RunOutcome", "SequenceError", "Terminated", "TextProgress", "check_batch", "load_batch",
    "run_batch", "step_reference_markdown",
]
