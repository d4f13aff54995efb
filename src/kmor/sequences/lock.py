"""The laser frequency lock: a PI servo on the reference-cell 2f error signal.

The reference cell's photodiode is demodulated at 2f by `lockin_reference`; its rear CH1 output
reaches the DAQ input `lock_error_ai`. The servo reads that voltage every `period_s` of station
time (from `Engine.wait`, so it keeps running while scans settle and average), and writes the PI
correction to `laser_control_ao`, the laser's frequency-control input, holding the error at the
set level. Gains are given as loop properties (fraction of the error removed per step, integral
rate) and turned into volts per volt with the error slope measured when the lock is acquired, so
they do not depend on the cell, the lock-in sensitivity or the sign of the flank.

Lock lost: the error stayed outside +-band_V for longer than lost_after_s. The servo then holds
its output (it would only run away) and the engine's LockLost suspender calls `relock`: with the
control output at 0 V, the piezo is swept around the last lock piezo setting, the crossing of the
set level with the slope sign of the original lock nearest to it is chosen, and the servo is
engaged there again.
"""

from __future__ import annotations

import dataclasses
import logging
import math
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from kmor.config.schema import param
from kmor.sequences import events as ev
from kmor.sequences.common import FILTER_SLOPES, settle_time_s_for
from kmor.sequences.errors import LockFailed
from kmor.sequences.laser import LaserSetupParams, setup_laser

if TYPE_CHECKING:
    from kmor.sequences.engine import Engine

log = logging.getLogger("kmor.sequences.lock")



@dataclass(frozen=True, kw_only=True)
class LockParams:
    """Laser lock on the reference-cell 2f signal: where, how hard, and when it counts as lost."""

    piezo_pct: float = param(-1.0, units="%", min=-1.0, max=100.0,
                             doc="piezo setting to lock at; -1 keeps the present one (e.g. the lock point found)")
    setpoint_from: str = param("here", choices=("here", "value"),
                               doc="'here': hold the error level measured at the piezo setting; 'value': setpoint_V")
    setpoint_V: float = param(0.0, units="V", min=-10.0, max=10.0, doc="error level to hold (setpoint_from = 'value')")
    harmonic: int = param(2, min=1, max=19999, doc="reference lock-in detection harmonic")
    sensitivity_V: float = param(0.2, units="V", min=2e-9, max=1.0, doc="reference lock-in sensitivity")
    time_constant_s: float = param(0.003, units="s", min=1e-5, max=30.0, doc="reference lock-in time constant")
    filter_slope_dB_per_oct: int = param(12, units="dB/oct", choices=FILTER_SLOPES,
                                         doc="reference lock-in filter slope")
    period_s: float = param(0.01, units="s", min=1e-3, max=10.0, doc="servo update period (station time)")
    loop_gain: float = param(0.3, units="", min=0.0, max=1.0,
                             doc="proportional gain: fraction of the error corrected at once")
    integral_rate_per_s: float = param(5.0, units="1/s", min=0.0, max=1000.0,
                                       doc="integral gain as the rate at which a steady error is removed")
    band_V: float = param(0.3, units="V", min=1e-4, max=10.0, doc="|error| above this counts as out of lock")
    lost_after_s: float = param(0.5, units="s", min=0.0, max=600.0,
                                doc="out of band this long = lock lost (scan suspends, re-lock)")
    control_limit_V: float = param(5.0, units="V", min=0.01, max=10.0,
                                   doc="largest |voltage| the servo writes to the laser's control input")
    probe_V: float = param(0.05, units="V", min=1e-4, max=5.0,
                           doc="control step used to measure the error slope when locking")
    piezo_probe_pct: float = param(0.2, units="%", min=1e-4, max=10.0,
                                   doc="piezo step used to measure the error slope versus piezo")
    capture_s: float = param(0.5, units="s", min=0.0, max=600.0,
                             doc="the error must stay in band this long for the lock to count as acquired")
    capture_timeout_s: float = param(10.0, units="s", min=0.01, max=3600.0,
                                     doc="give up waiting for capture after this long")
    relock_span_pct: float = param(10.0, units="%", min=0.01, max=100.0,
                                   doc="re-lock searches the piezo this far either side of the last lock point")
    relock_step_pct: float = param(0.1, units="%", min=1e-3, max=10.0, doc="piezo step of the re-lock search")
    max_relock_attempts: int = param(3, min=1, max=100, doc="re-lock attempts before the run stops")


@dataclass
class LockStats:
    """Error statistics since the last `take_stats` (V)."""

    n: int = 0
    sum_sq: float = 0.0
    max_abs: float = 0.0


class LockServo:
    """PI servo: error = AI(error) - setpoint; control = integral + kp * error, clamped.

    kp and ki are in volts of control per volt of error (ki per second). When the lock is lost
    the output is held."""

    def __init__(self, daq: Any, error_ai: str, control_ao: str, *, setpoint_V: float,
                 kp: float, ki_per_s: float, period_s: float, band_V: float, lost_after_s: float,
                 control_limit_V: float, now_s: float) -> None:
        self.daq, self.error_ai, self.control_ao = daq, error_ai, control_ao
        self.setpoint_V = setpoint_V
        self.kp, self.ki_per_s = kp, ki_per_s
        self.period_s = period_s
        self.band_V, self.lost_after_s = band_V, lost_after_s
        self.control_limit_V = control_limit_V
        self.integral_V = float(daq.ao_V(control_ao))
        self.control_V = self.integral_V
        self.last_error_V = math.nan
        self.last_step_s = now_s
        self.next_step_s = now_s + period_s
        self.steps = 0
        self._out_since_s: float | None = None
        self._lost = False
        self._lost_error_V = math.nan
        self.stats = LockStats()

    def restart_schedule(self, now_s: float) -> None:
        """Step next one period after `now_s` (station time, s), with the integral time and the
        error statistics counted from `now_s`: called as a batch job begins, so the servo steps
        at the same times from the job's start however the batch got there (decision 0104)."""
        self.last_step_s = now_s
        self.next_step_s = now_s + self.period_s
        self.stats = LockStats()

    @property
    def lost(self) -> bool:
        """True once the error stayed out of band longer than lost_after_s."""
        return self._lost

    @property
    def out_of_band_since_s(self) -> float | None:
        """Station time at which the error left its band (None while it is inside): points taken
        since then were measured with the laser already off its lock point."""
        return self._out_since_s

    def lost_reason(self) -> str:
        return (f"laser lock lost: error {self._lost_error_V:+.3g} V outside +-{self.band_V:g} V "
                f"for more than {self.lost_after_s:g} s")

    def step(self, now_s: float) -> None:
        """Read the error, update the state, write the control output."""
        error = float(self.daq.read_ai_V(self.error_ai)) - self.setpoint_V
        dt = min(max(now_s - self.last_step_s, 0.0), 5 * self.period_s)
        self.last_step_s = now_s
        self.next_step_s = max(self.next_step_s + self.period_s, now_s + 0.5 * self.period_s)
        self.steps += 1
        self.last_error_V = error
        s = self.stats
        s.n += 1
        s.sum_sq += error * error
        s.max_abs = max(s.max_abs, abs(error))
        self._watch_band(error, now_s)
        if self._lost:
            return
        integral = self.integral_V + self.ki_per_s * error * dt
        control = integral + self.kp * error
        limit = self.control_limit_V
        if abs(control) > limit:  # anti-windup: keep the integral where the output saturates
            control = math.copysign(limit, control)
            integral = control - self.kp * error
            integral = max(-limit, min(limit, integral))
        self.integral_V = integral
        self.control_V = control
        self.daq.write_ao_V(self.control_ao, control)

    def _watch_band(self, error: float, now_s: float) -> None:
        if abs(error) <= self.band_V:
            self._out_since_s = None
            return
        if self._out_since_s is None:
            self._out_since_s = now_s
        elif now_s - self._out_since_s > self.lost_after_s and not self._lost:
            self._lost = True
            self._lost_error_V = error
            log.warning("%s", self.lost_reason())

    def take_stats(self) -> tuple[float, float]:
        """(rms, max |error|) in V since the previous call (NaN if no step ran)."""
        s = self.stats
        self.stats = LockStats()
        if s.n == 0:
            return math.nan, math.nan
        return math.sqrt(s.sum_sq / s.n), s.max_abs


# ---------------------------------------------------------------------------------------------
def estimate_s(p: LockParams) -> float:
    """Lab time (s) of `acquire_lock` when it captures at once: seven lock-in settles (start, and
    before, between and after the two slope measurements), twelve reading spacings of one time
    constant (5 readings here, 3 at each of the four slope points, three spacings each), then
    capture_s in band plus one servo period."""
    settle = settle_time_s_for(p.time_constant_s, p.filter_slope_dB_per_oct)
    return 7 * settle + 12 * p.time_constant_s + p.capture_s + p.period_s


def configure_reference_lockin(engine: Engine, p: LockParams) -> float:
    """Set the 2f lock-in; returns its settling time (s, 99 %)."""
    li = engine.station.lockin_reference
    li.harmonic = p.harmonic
    li.sensitivity_V = p.sensitivity_V
    li.time_constant_s = p.time_constant_s
    li.filter_slope_dB_per_oct = p.filter_slope_dB_per_oct
    return float(li.settle_time_s(0.99))


def read_error_V(engine: Engine, n: int, spacing_s: float) -> float:
    """Mean of `n` readings of the lock error input (V), `spacing_s` apart."""
    st = engine.station
    values = []
    for i in range(n):
        if i:
            engine.wait(spacing_s)
        values.append(float(st.daq.read_ai_V(st.lock_error_ai)))
    return float(np.mean(values))


def acquire_lock(engine: Engine, p: LockParams) -> dict[str, Any]:
    """Lock the laser: configure the 2f lock-in, go to the piezo setting, measure the error
    slopes, engage the servo and wait for capture (falling back to a piezo search).

    Returns (and stores in engine.context["lock"]) the lock record: setpoint, piezo, slopes."""
    st = engine.station
    engine.release()
    settle_s = configure_reference_lockin(engine, p)
    if p.piezo_pct >= 0:
        st.laser.piezo_pct = p.piezo_pct
    piezo = float(st.laser.piezo_pct)
    st.daq.write_ao_V(st.laser_control_ao, 0.0)
    engine.wait(settle_s)
    n_read = 5
    here_V = read_error_V(engine, n_read, p.time_constant_s)
    setpoint = here_V if p.setpoint_from == "here" else p.setpoint_V
    slope_u = _slope(engine, lambda u: st.daq.write_ao_V(st.laser_control_ao, u), 0.0, p.probe_V,
                     settle_s, p)
    slope_p = _slope(engine, lambda x: setattr(st.laser, "piezo_pct", x), piezo,
                     p.piezo_probe_pct, settle_s, p)
    if not (math.isfinite(slope_u) and abs(slope_u) > 0):
        raise LockFailed(f"no error slope versus the control input ({slope_u:g} V/V): is the laser "
                         f"on the line and the 2f lock-in connected?")
    record = {"params": dataclasses.asdict(p), "setpoint_V": setpoint, "piezo_pct": piezo,
              "slope_V_per_V": slope_u, "piezo_slope_V_per_pct": slope_p,
              "error_here_V": here_V}
    engine.context["lock"] = record
    if _engage_and_capture(engine, p, record):
        engine.publish(ev.LOCK, message="locked", info=_lock_info(record))
        return record
    log.warning("lock did not capture at piezo %.3f %%; searching", piezo)
    return relock(engine)


def restore_lock(engine: Engine, record: dict[str, Any]) -> dict[str, Any]:
    """Lock again at a saved lock record (after `--resume`): same piezo and set level."""
    p = dataclasses.replace(LockParams(**record["params"]), piezo_pct=record["piezo_pct"],
                            setpoint_from="value", setpoint_V=record["setpoint_V"])
    return acquire_lock(engine, p)


def relock(engine: Engine) -> dict[str, Any]:
    """Re-acquire the lock after a loss: piezo search around the last lock point, then engage.

    Raises LockFailed after `max_relock_attempts` (each attempt widens the search by half)."""
    record = engine.context.get("lock")
    if record is None:
        raise LockFailed("re-lock requested but the laser was never locked in this run")
    p = LockParams(**record["params"])
    st = engine.station
    engine.release()
    settle_s = configure_reference_lockin(engine, p)
    for attempt in range(p.max_relock_attempts):
        engine.check_abort()
        span = p.relock_span_pct * (1.0 + 0.5 * attempt)
        st.daq.write_ao_V(st.laser_control_ao, 0.0)
        piezo = _search_crossing(engine, record, span, p.relock_step_pct, settle_s)
        if piezo is None:
            log.warning("re-lock attempt %d: no crossing of %.4g V within +-%.3g %% of piezo %.3f %%",
                        attempt + 1, record["setpoint_V"], span, record["piezo_pct"])
            continue
        st.laser.piezo_pct = piezo
        engine.wait(settle_s)
        new = dict(record, piezo_pct=piezo)
        if _engage_and_capture(engine, p, new):
            engine.context["lock"] = new
            engine.publish(ev.LOCK, message="re-locked", info=_lock_info(new))
            return new
    engine.release()
    raise LockFailed(f"could not re-lock the laser after {p.max_relock_attempts} attempts "
                     f"(set level {record['setpoint_V']:.4g} V near piezo {record['piezo_pct']:.3f} %)")


def release_lock(engine: Engine) -> None:
    """Stop servoing; the control input goes back to 0 V."""
    engine.release()
    st = engine.station
    st.daq.write_ao_V(st.laser_control_ao, 0.0)


def _lock_info(record: dict[str, Any]) -> dict[str, Any]:
    return {k: record[k] for k in ("setpoint_V", "piezo_pct", "slope_V_per_V")}


def _slope(engine: Engine, apply: Any, center: float, delta: float, settle_s: float,
           p: LockParams) -> float:
    """d(error)/d(input) from readings at center +- delta; leaves the input at center."""
    readings = []
    for value in (center + delta, center - delta):
        apply(value)
        engine.wait(settle_s)
        readings.append(read_error_V(engine, 3, p.time_constant_s))
    apply(center)
    engine.wait(settle_s)
    return (readings[0] - readings[1]) / (2.0 * delta)


def _engage_and_capture(engine: Engine, p: LockParams, record: dict[str, Any]) -> bool:
    """Engage a fresh servo at the record's set level; True once the error stayed in band for
    capture_s (False after capture_timeout_s or a loss)."""
    st = engine.station
    slope = record["slope_V_per_V"]
    servo = LockServo(st.daq, st.lock_error_ai, st.laser_control_ao,
                      setpoint_V=record["setpoint_V"], kp=-p.loop_gain / slope,
                      ki_per_s=-p.integral_rate_per_s / slope, period_s=p.period_s,
                      band_V=p.band_V, lost_after_s=p.lost_after_s,
                      control_limit_V=p.control_limit_V, now_s=engine.now_s())
    engine.engage(servo)
    start_s = engine.now_s()
    in_band_since: float | None = None
    while engine.now_s() - start_s < p.capture_timeout_s:
        engine.wait(p.period_s)
        if servo.lost:
            break
        now = engine.now_s()
        if abs(servo.last_error_V) <= p.band_V:
            in_band_since = now if in_band_since is None else in_band_since
            if now - in_band_since >= p.capture_s:
                servo.take_stats()
                return True
        else:
            in_band_since = None
    engine.release()
    return False


def _search_crossing(engine: Engine, record: dict[str, Any], span_pct: float, step_pct: float,
                     settle_s: float) -> float | None:
    """Sweep the piezo around the lock point; the crossing of the set level with the lock's
    slope sign nearest to the lock point (interpolated), or None."""
    st = engine.station
    center = record["piezo_pct"]
    lo, hi = max(0.0, center - span_pct), min(100.0, center + span_pct)
    grid = np.arange(lo, hi + 0.5 * step_pct, step_pct)
    errors = np.empty(grid.size)
    for i, x in enumerate(grid):
        st.laser.piezo_pct = float(x)
        engine.wait(settle_s if i == 0 else max(settle_s / 3.0, record["params"]["time_constant_s"] * 3))
        errors[i] = float(st.daq.read_ai_V(st.lock_error_ai)) - record["setpoint_V"]
    sign = math.copysign(1.0, record["piezo_slope_V_per_pct"])
    candidates = []
    for i in range(grid.size - 1):
        a, b = errors[i], errors[i + 1]
        if a == b or (a > 0) == (b > 0) or math.copysign(1.0, b - a) != sign:
            continue
        x = grid[i] + (grid[i + 1] - grid[i]) * a / (a - b)
        candidates.append(float(x))
    if not candidates:
        return None
    return min(candidates, key=lambda x: abs(x - center))


def hold_lock(engine: Engine, lock: LockParams, laser: LaserSetupParams | None = None) -> dict[str, Any]:
    """Plan: (set the laser up,) lock, then sit in the engine's pause state, where the servo keeps
    running and a lost lock is re-acquired, until the run is aborted."""
    prepare = getattr(engine.station, "prepare", None)
    if callable(prepare):
        prepare()
    if laser is not None:
        setup_laser(engine, laser)
    record = acquire_lock(engine, lock)
    engine.pause()
    engine.checkpoint()
    return record
