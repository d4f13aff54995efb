"""NiDaq: DaqUnavailable with the real nidaqmx package (no NI driver here), and the task calls
for single points and the synchronised AO/AI sweep, checked on a recording fake task."""

import nidaqmx.errors
import numpy as np
import pytest
from nidaqmx.constants import AcquisitionType, TerminalConfiguration

from kmor.drivers.daq import DaqBoard, NiDaq
from kmor.drivers.errors import (DaqOperationError, DaqUnavailable, InstrumentError,
                                 SettingOutOfRange)


def test_real_nidaqmx_without_ni_driver_raises_daq_unavailable_with_what_to_do():
    with pytest.raises(DaqUnavailable) as err:
        NiDaq("Dev1")
    message = str(err.value)
    assert "NI-DAQmx" in message and "not installed" in message
    assert "config/sim.toml" in message and "--config" in message
    assert isinstance(err.value, InstrumentError)
    assert isinstance(err.value.__cause__, nidaqmx.errors.DaqNotFoundError)


class _Recorder:
    """Records every call made on any fake task, in order, as (task id, call, args, kwargs)."""

    def __init__(self):
        self.calls, self.tasks = [], []


class _Part:
    def __init__(self, task, prefix):
        self._task, self._prefix = task, prefix

    def __getattr__(self, name):
        if name in ("ai_channels", "ao_channels", "timing", "triggers", "start_trigger"):
            return _Part(self._task, f"{self._prefix}{name}.")
        return lambda *args, **kwargs: self._task.log(self._prefix + name, args, kwargs)


class FakeTask:
    def __init__(self, recorder, ai_data):
        self.recorder, self.ai_data, self.id = recorder, ai_data, len(recorder.tasks)
        recorder.tasks.append(self)
        self.channels, self.closed = [], False

    def log(self, name, args, kwargs):
        self.recorder.calls.append((self.id, name, args, kwargs))
        if name.endswith("add_ai_voltage_chan") or name.endswith("add_ao_voltage_chan"):
            self.channels.append(args[0])
        if name == "read":
            n = kwargs.get("number_of_samples_per_channel")
            if n is None:
                return 0.25
            rows = [[self.ai_data(ch, k) for k in range(n)] for ch in self.channels]
            return rows[0] if len(rows) == 1 else rows
        return None

    def __getattr__(self, name):
        return _Part(self, "").__getattr__(name)

    def close(self):
        self.closed = True
        self.recorder.calls.append((self.id, "close", (), {}))


def fake_daq(ai_data=lambda ch, k: float(k), **kwargs):
    recorder = _Recorder()
    daq = NiDaq("Dev1", task_factory=lambda: FakeTask(recorder, ai_data), **kwargs)
    return daq, recorder


def test_nidaq_satisfies_the_daqboard_protocol():
    daq, _ = fake_daq()
    assert isinstance(daq, DaqBoard)


def test_single_point_read_configures_the_channel_once_and_reuses_the_task():
    daq, rec = fake_daq(ai_terminal_config="RSE")
    assert daq.read_ai_V("Dev1/ai3") == 0.25
    assert daq.read_ai_V("Dev1/ai3") == 0.25
    adds = [c for c in rec.calls if c[1] == "ai_channels.add_ai_voltage_chan"]
    assert len(adds) == 1 and adds[0][2] == ("Dev1/ai3",)
    assert adds[0][3] == {"terminal_config": TerminalConfiguration.RSE, "min_val": -10.0,
                          "max_val": 10.0}
    assert len(rec.tasks) == 2                     # the probe at construction + one AI task


def test_single_point_write_and_last_value():
    daq, rec = fake_daq()
    assert daq.ao_V("Dev1/ao0") == 0.0
    daq.write_ao_V("Dev1/ao0", -2.5)
    assert daq.ao_V("Dev1/ao0") == -2.5
    writes = [c for c in rec.calls if c[1] == "write"]
    assert writes == [(1, "write", (-2.5,), {"auto_start": True})]


@pytest.mark.parametrize("value", [10.01, -11, float("nan"), "1", True])
def test_out_of_range_ao_value_refused_before_any_task_is_made(value):
    daq, rec = fake_daq()
    with pytest.raises(SettingOutOfRange, match="Dev1/ao1"):
        daq.write_ao_V("Dev1/ao1", value)
    assert len(rec.tasks) == 1 and daq.ao_V("Dev1/ao1") == 0.0


@pytest.mark.parametrize("method, channel", [("read_ai_V", "Dev1/ao0"), ("read_ai_V", "ai0"),
                                             ("ao_V", "Dev1/ai0")])
def test_channel_names_checked(method, channel):
    daq, _ = fake_daq()
    with pytest.raises(SettingOutOfRange, match="channel name"):
        getattr(daq, method)(channel)


def test_sweep_starts_ao_first_triggered_by_ai_start_trigger_and_returns_rows_per_channel():
    daq, rec = fake_daq(ai_data=lambda ch, k: 100 * int(ch[-1]) + k)
    daq.write_ao_V("Dev1/ao0", 1.0)                 # a single-point task on the swept channel
    wave = np.linspace(-1.0, 1.0, 50)
    data = daq.sweep("Dev1/ao0", wave, ["Dev1/ai0", "Dev1/ai2"], rate_hz=1000.0)
    assert data.shape == (2, 50)
    np.testing.assert_array_equal(data[1], 200 + np.arange(50))
    ao_id, ai_id = 2, 3
    calls = [(t, name) for t, name, _, _ in rec.calls]
    assert (1, "close") in calls[:calls.index((ao_id, "ao_channels.add_ao_voltage_chan"))]
    assert calls.index((ao_id, "start")) < calls.index((ai_id, "start"))
    trigger = [c for c in rec.calls if c[1] == "triggers.start_trigger.cfg_dig_edge_start_trig"]
    assert trigger == [(ao_id, "triggers.start_trigger.cfg_dig_edge_start_trig",
                        ("/Dev1/ai/StartTrigger",), {})]
    timing = {c[0]: c for c in rec.calls if c[1] == "timing.cfg_samp_clk_timing"}
    for task_id in (ao_id, ai_id):
        assert timing[task_id][2] == (1000.0,)
        assert timing[task_id][3] == {"sample_mode": AcquisitionType.FINITE, "samps_per_chan": 50}
    write = next(c for c in rec.calls if c[0] == ao_id and c[1] == "write")
    np.testing.assert_array_equal(write[2][0], wave)
    assert write[3] == {"auto_start": False}
    assert rec.tasks[ao_id].closed and rec.tasks[ai_id].closed
    assert daq.ao_V("Dev1/ao0") == 1.0              # the waveform's last sample


def test_sweep_with_one_input_still_returns_2d():
    daq, _ = fake_daq()
    data = daq.sweep("Dev1/ao1", np.zeros(4), ["Dev1/ai0"], rate_hz=10)
    assert data.shape == (1, 4) and list(data[0]) == [0, 1, 2, 3]


@pytest.mark.parametrize("ao, wave, ai, rate", [
    ("Dev1/ao0", np.array([0.0, 12.0]), ["Dev1/ai0"], 100),
    ("Dev1/ao0", np.array([0.0, np.nan]), ["Dev1/ai0"], 100),
    ("Dev1/ao0", np.array([0.0]), ["Dev1/ai0"], 100),
    ("Dev1/ao0", np.zeros(4), [], 100),
    ("Dev1/ao0", np.zeros(4), "Dev1/ai0", 100),
    ("Dev1/ao0", np.zeros(4), ["Dev2/ai0"], 100),
    ("Dev1/ao0", np.zeros(4), ["Dev1/ai0"], 0)])
def test_bad_sweeps_refused_before_any_task_is_made(ao, wave, ai, rate):
    daq, rec = fake_daq()
    with pytest.raises(SettingOutOfRange):
        daq.sweep(ao, wave, ai, rate)
    assert len(rec.tasks) == 1


def test_daq_errors_become_daq_operation_errors_with_the_code():
    def broken(ch, k):
        raise nidaqmx.errors.DaqError("Resource is reserved", -50103)

    daq, rec = fake_daq(ai_data=broken)
    with pytest.raises(DaqOperationError, match="-50103"):
        daq.sweep("Dev1/ao0", np.zeros(3), ["Dev1/ai0"], 100)
    assert all(task.closed for task in rec.tasks)


def test_close_closes_cached_tasks():
    daq, rec = fake_daq()
    daq.read_ai_V("Dev1/ai0")
    daq.write_ao_V("Dev1/ao0", 0.5)
    daq.close()
    assert all(task.closed for task in rec.tasks)
