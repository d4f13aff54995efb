"""kmor.connect(): a lab session that keeps the lock, the transverse fields and the light between
runs, records ad-hoc scans point by point, and leaves the apparatus safe however it ends."""

from __future__ import annotations

import subprocess
import sys
import textwrap

import numpy as np
import pytest

import kmor
from kmor.storage import read_scan
from seq_helpers import is_safe


@pytest.fixture
def lab(tmp_path):
    with kmor.connect(data_dir=tmp_path) as session:
        session.station.prepare()
        yield session


def _set_bx(uG):
    def plan(engine):
        engine.station.coils.set_field_uG("bx", uG)
    return plan


def test_lock_fields_and_light_are_kept_between_runs(lab):
    lab.step("laser", settle_s=0.1, piezo_pct=47.5)
    lab.step("lock")
    assert lab.locked
    lab.run(_set_bx(3.0))
    sim = lab.station.sim
    assert sim.coil_fields_uG()["bx"] == pytest.approx(3.0)
    result = lab.step("bscan", field_range_uG=4.0, step_uG=2.0, light_power_uW=5.0)
    scan = read_scan(result["scan"])
    assert scan.status == "complete"
    assert np.all(scan.columns["locked"]), "the scan ran locked without a lock step of its own"
    assert scan.parameters["transverse_uG"]["bx"] == pytest.approx(3.0)
    fields = sim.coil_fields_uG()
    assert fields["bx"] == pytest.approx(3.0) and fields["bz"] == pytest.approx(0.0)
    assert not sim.rf_generator.output_on
    assert lab.station.light_power_uW() == pytest.approx(5.0, rel=0.2)


def test_an_adhoc_scan_puts_every_point_on_disk(lab):
    values = np.linspace(-20, 20, 41)
    seen = []
    lab.subscribe(lambda e: seen.append(e.kind))
    scan = lab.scan("bz_uG", values, read=["x_V", "y_V"])
    assert scan.status == "complete" and scan.n_points == 41
    assert scan.path.parent == lab.run_dir
    assert np.allclose(scan.columns["bz_uG"], values)
    assert scan.columns["bz_uG"].units == "uG" and scan.columns["x_V"].units == "V"
    assert np.all(np.isfinite(scan.columns["x_V"]))
    assert (lab.run_dir / "run.log").exists()


def test_an_adhoc_scan_refuses_unknown_names_and_values_beyond_the_limits(lab):
    with pytest.raises(ValueError, match="cannot sweep 'bq_uG'"):
        lab.scan("bq_uG", [0.0], read=["x_V"])
    with pytest.raises(ValueError, match="cannot read 'z_V'"):
        lab.scan("bz_uG", [0.0], read=["z_V"])
    with pytest.raises(Exception, match="max_field_uG"):
        lab.scan("bz_uG", [0.0, 1e9], read=["x_V"])


def test_a_failing_run_makes_the_apparatus_safe_and_drops_the_lock(lab):
    lab.step("laser", settle_s=0.1, piezo_pct=47.5)
    lab.step("lock")
    lab.run(_set_bx(3.0))

    def broken(engine):
        raise RuntimeError("bug in a plan")
    with pytest.raises(RuntimeError, match="bug in a plan"):
        lab.run(broken)
    assert is_safe(lab.station) and not lab.locked
    lab.run(lambda engine: None)   # a zeroing result would be set again; none here
    assert is_safe(lab.station)


def test_zeroed_fields_come_back_after_a_safe_state(lab):
    lab.context["zeroing"] = {"fields_uG": {"bx": 2.0, "by": -1.0}}
    lab.make_safe()
    lab.run(lambda engine: None)
    fields = lab.station.sim.coil_fields_uG()
    assert fields["bx"] == pytest.approx(2.0) and fields["by"] == pytest.approx(-1.0)


def test_closing_or_an_exception_leaves_the_apparatus_safe(tmp_path):
    with pytest.raises(KeyError):
        with kmor.connect(data_dir=tmp_path) as lab:
            lab.run(_set_bx(4.0))
            sim = lab.station.sim
            assert sim.coil_fields_uG()["bx"] == pytest.approx(4.0)
            raise KeyError("user code failed")
    assert all(abs(v) < 1e-9 for v in sim.coil_fields_uG().values())
    with pytest.raises(RuntimeError, match="closed"):
        lab.run(lambda engine: None)


def test_the_interpreter_exit_makes_the_apparatus_safe(tmp_path):
    script = textwrap.dedent(f"""
        import atexit, kmor
        fields = {{}}
        atexit.register(lambda: print("at exit:", fields["sim"].coil_fields_uG()))
        lab = kmor.connect(data_dir={str(tmp_path)!r})
        fields["sim"] = lab.station.sim
        lab.run(lambda e: e.station.coils.set_field_uG("bx", 4.0))
        print("before exit:", lab.station.sim.coil_fields_uG())
    """)
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    before, after = out.stdout.strip().splitlines()
    assert "'bx': 4.0" in before
    assert "'bx': 0.0" in after
