"""The real drivers, unchanged, against the simulated lab through pyvisa: settings, coupling to the
physics, and clear errors for the wrong instrument, bad values and faulty replies."""

from __future__ import annotations

import pytest

from kmor.config.files import load_config
from kmor.drivers.errors import (InstrumentReplyError, InstrumentTimeout, ReferenceClockMissing,
                                 SettingOutOfRange, WrongInstrument)
from kmor.drivers.hp8647a import HP8647A
from kmor.drivers.sr830 import SR830
from kmor.station import build_station

HF_HZ = 461_719_720.1


@pytest.fixture
def station():
    st = build_station(load_config())
    st.prepare()
    yield st
    st.close()


def test_every_instrument_answers_and_snapshots(station):
    snap = station.snapshot()
    assert snap["rf_generator"]["identity"].startswith("Hewlett-Packard,8647A")
    assert snap["lockin_reference"]["harmonic"] == 2 and snap["lockin_polarimeter"]["harmonic"] == 1
    assert snap["counter"]["external_clock"] is True
    assert "error" not in str(snap)


def test_generator_frequency_read_on_counter(station):
    station.rf.amplitude_dBm = -20.0
    station.rf.freq_hz = 461_719_720
    station.rf.rf_on = True
    mean_hz, jitter_hz = station.counter.measure_frequency()
    assert mean_hz == pytest.approx(461_719_720, abs=0.1)
    assert jitter_hz >= 0


def test_counter_reports_missing_reference(station):
    station.rf.freq_hz = 461_719_720
    station.rf.rf_on = True
    station.sim.reference_connected = False
    with pytest.raises(ReferenceClockMissing):
        station.counter.measure_frequency()


def start_laser(station, power_uW=10.0):
    station.laser.wavelength_nm = 770.1084
    station.laser.current_mA = 50.0
    station.laser.output_on = True
    station.laser.wait_complete(station.clock.sleep)
    return station.set_light_power_uW(power_uW)


def test_polarimeter_lockin_follows_the_field_after_its_time_constants(station):
    start_laser(station)
    lockin = station.lockin_polarimeter
    lockin.time_constant_s = 0.3
    lockin.sensitivity_V = 1e-3
    station.coils.set_fields_uG({"bx": -2.5, "by": 1.8})
    station.clock.sleep(lockin.settle_time_s())
    station.coils.set_field_uG("bz", -8.0)
    station.clock.sleep(lockin.settle_time_s())
    below = lockin.x_V
    station.coils.set_field_uG("bz", 8.0)
    early = lockin.x_V
    station.clock.sleep(lockin.settle_time_s())
    above = lockin.x_V
    assert below * above < 0, "the dispersive NMOR signal changes sign across zero field"
    assert abs(early - below) < 0.2 * abs(above - below), "a read right after the step still shows the old value"


def test_light_power_servo_reaches_target(station):
    assert start_laser(station, 25.0) == pytest.approx(25.0, rel=0.02)
    assert station.light_power_uW() == pytest.approx(25.0, rel=0.02)


def test_wrong_instrument_refused_at_connect(station):
    library = station.sim.visa_library()
    with pytest.raises(WrongInstrument, match="GPIB0::19::INSTR"):
        SR830("GPIB0::19::INSTR", library)


def test_out_of_range_refused_before_sending(station):
    sent = []
    library = station.sim.visa_library()
    library.set_fault("GPIB0::19::INSTR", lambda direction, data: (sent.append((direction, data)), data)[1])
    rf = HP8647A("GPIB0::19::INSTR", library, max_amplitude_dBm=0.0)
    sent.clear()
    with pytest.raises(SettingOutOfRange, match="amplitude"):
        rf.amplitude_dBm = 5.0
    with pytest.raises(SettingOutOfRange):
        rf.freq_hz = 2e9
    assert sent == []


def test_garbled_and_lost_replies_raise_clear_errors(station):
    library = station.sim.visa_library()
    rf = HP8647A("GPIB0::19::INSTR", library)
    library.set_fault("GPIB0::19::INSTR", lambda direction, data: b"#\x00garbage\n" if direction == "read" else data)
    with pytest.raises(InstrumentReplyError, match="FREQ:CW"):
        _ = rf.freq_hz
    library.set_fault("GPIB0::19::INSTR", lambda direction, data: None if direction == "read" else data)
    with pytest.raises(InstrumentTimeout, match="HP 8647A"):
        _ = rf.freq_hz


def test_nmor_curve_through_the_instruments_has_the_configured_width(station):
    """Scan Bz with the coils, read the 1f lock-in: the fitted width is the physics' 2.9 + 0.91 P uG."""
    import numpy as np

    from kmor.analysis import fit_nmor

    power_uW = start_laser(station, 5.0)
    station.daq.write_ao_V(station.laser_control_ao, -2.5)  # near the largest rotation, ~250 MHz below D1
    residual = station.config.sim.physics.fields.residual_uG
    station.coils.set_fields_uG({"bx": -residual[0], "by": -residual[1]})
    lockin = station.lockin_polarimeter
    lockin.time_constant_s = 0.1
    lockin.sensitivity_V = 1e-3                     # ~30 urad x 10 V/rad / sqrt 2 = 0.2 mV peak
    fields_uG = np.linspace(-30, 30, 41)
    signal_V = []
    for b in fields_uG:
        station.coils.set_field_uG("bz", b)
        station.clock.sleep(lockin.settle_time_s())
        signal_V.append(lockin.x_V)
    fit = fit_nmor(fields_uG, np.array(signal_V))
    expected_uG = 2.9 + 0.91 * power_uW
    assert abs(fit.width_uG - expected_uG) < max(3 * fit.width_err_uG, 0.02 * expected_uG)
    drift_uG = station.sim.physics.field_drifts[2].value(station.clock.now_s())   # the shield's slow drift
    assert fit.center_uG == pytest.approx(-(residual[2] + drift_uG), abs=0.1)
    assert not lockin.status().overloaded
