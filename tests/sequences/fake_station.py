"""A fake station for engine tests: a virtual clock, an rf switch and three coils, and a record
of every make_safe() call. No simulated physics and no instruments, so engine behaviour (pause,
abort, suspend, safe state) is tested in milliseconds and independently of the lab model."""

from __future__ import annotations

from typing import Any


class FakeClock:
    """Time that passes only when someone sleeps."""

    def __init__(self) -> None:
        self.t_s = 0.0

    def now_s(self) -> float:
        return self.t_s

    def sleep(self, dt_s: float) -> None:
        self.t_s += max(dt_s, 0.0)


class FakeRf:
    def __init__(self) -> None:
        self.rf_on = False
        self.freq_hz = 461_719_720.0
        self.amplitude_dBm = -30.0


class FakeCoils:
    def __init__(self) -> None:
        self.fields = {"bx": 0.0, "by": 0.0, "bz": 0.0}

    def set_field_uG(self, axis: str, value_uG: float) -> None:
        self.fields[axis] = float(value_uG)

    def set_fields_uG(self, targets_uG: dict[str, float]) -> None:
        self.fields.update({a: float(v) for a, v in targets_uG.items()})

    def field_uG(self, axis: str) -> float:
        return self.fields[axis]

    def fields_uG(self) -> dict[str, float]:
        return dict(self.fields)

    def ramp_all_to_zero(self) -> None:
        self.fields = dict.fromkeys(self.fields, 0.0)


class FakeStation:
    """Just what the engine itself touches: clock, snapshot, rf, coils, make_safe, begin_job."""

    def __init__(self) -> None:
        self.clock = FakeClock()
        self.rf = FakeRf()
        self.coils = FakeCoils()
        self.safe_calls = 0
        self.sim = None

    def begin_job(self, job_number: int, planned_start_s: float) -> None:
        """No simulated lab to re-seed."""

    def snapshot(self) -> dict[str, Any]:
        return {"coils": self.coils.fields_uG(), "rf_on": self.rf.rf_on}

    def make_safe(self) -> list[str]:
        self.safe_calls += 1
        self.rf.rf_on = False
        self.coils.ramp_all_to_zero()
        return []

    def is_safe(self) -> bool:
        return not self.rf.rf_on and all(v == 0.0 for v in self.coils.fields.values())
