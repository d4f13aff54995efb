"""The pyvisa backend: normal pyvisa resources whose instruments are the emulators."""

import pyvisa
import pytest
from pyvisa import constants

from kmor.sim import visa_backend
from kmor.sim.clock import SimClock
from kmor.sim.instruments import HP8647AEmulator, SR830Emulator, TLB6300Emulator
from kmor.sim.visa_backend import SimVisaLibrary, default_emulators


@pytest.fixture
def lab():
    emulators, clock = default_emulators()
    rm = pyvisa.ResourceManager(SimVisaLibrary.from_emulators(emulators, clock))
    yield rm, emulators, clock
    rm.close()


def open_(rm, emulators, name, **kwargs):
    emu = emulators[name]
    return rm.open_resource(name, read_termination=emu.read_termination,
                            write_termination=emu.write_termination, **kwargs)


EXPECTED_IDN = {
    "GPIB0::19::INSTR": "Hewlett-Packard,8647A",
    "GPIB0::16::INSTR": "StanfordResearchSystems,SR620",
    "GPIB0::8::INSTR": "Stanford_Research_Systems,SR830",
    "GPIB0::9::INSTR": "Stanford_Research_Systems,SR830",
    "GPIB0::1::INSTR": "NewFocus",
    "GPIB0::12::INSTR": "KEITHLEY INSTRUMENTS INC.,MODEL 6221",
    "GPIB0::13::INSTR": "KEITHLEY INSTRUMENTS INC.,MODEL 6221",
    "GPIB0::14::INSTR": "KEITHLEY INSTRUMENTS INC.,MODEL 6221",
}


def test_every_emulator_answers_idn_through_pyvisa(lab):
    rm, emulators, _ = lab
    assert set(rm.list_resources()) == set(EXPECTED_IDN)
    for name, prefix in EXPECTED_IDN.items():
        inst = open_(rm, emulators, name)
        assert isinstance(inst, pyvisa.resources.GPIBInstrument)
        assert inst.query("*IDN?").startswith(prefix)
        inst.close()


def test_keithley_identity_keeps_trailing_spaces(lab):
    rm, emulators, _ = lab
    assert open_(rm, emulators, "GPIB0::12::INSTR").query("*IDN?").endswith("/700x ")


def test_read_with_nothing_queued_times_out_and_costs_lab_time(lab):
    rm, emulators, clock = lab
    gen = open_(rm, emulators, "GPIB0::19::INSTR", timeout=1500)
    gen.write("FREQ:CW 461.7197 MHZ")
    with pytest.raises(pyvisa.VisaIOError) as info:
        gen.read()
    assert info.value.error_code == constants.StatusCode.error_timeout
    assert clock.now_s() == pytest.approx(1.5)
    assert float(gen.query("FREQ:CW?")) == 461_719_700.0


def test_tlb6300_read_returns_the_last_response_again(lab):
    rm, emulators, clock = lab
    laser = open_(rm, emulators, "GPIB0::1::INSTR", timeout=100)
    assert laser.query("OUTP 1") == "OK"
    assert laser.read() == "OK"
    assert laser.read() == "OK"
    laser.write("CURR 50")
    laser.write("SENS:CURR:DIOD")  # the OK of CURR is overwritten, not queued
    assert laser.read() == "50.0"
    assert laser.read() == "50.0"
    assert clock.now_s() == 0.0  # no timeout happened


def test_sr830_joined_queries_read_one_answer_at_a_time(lab):
    rm, emulators, _ = lab
    lockin = open_(rm, emulators, "GPIB0::8::INSTR", timeout=100)
    lockin.write("SENS 17;OFLT 8")
    lockin.write("SENS?;OFLT?")
    assert lockin.read() == "17"
    assert lockin.read() == "8"
    with pytest.raises(pyvisa.VisaIOError):
        lockin.read()


def test_srs_replies_queue_until_read(lab):
    rm, emulators, _ = lab
    counter = open_(rm, emulators, "GPIB0::16::INSTR")
    counter.write("MODE?")
    counter.write("SIZE?")
    assert (counter.read(), counter.read()) == ("0", "1")


def test_scpi_unread_reply_is_interrupted_by_the_next_command(lab):
    rm, emulators, _ = lab
    gen = open_(rm, emulators, "GPIB0::19::INSTR")
    gen.write("FREQ:CW?")
    assert gen.query("*IDN?").startswith("Hewlett-Packard")
    assert gen.query("SYST:ERR?") == '-410,"Query INTERRUPTED"'


def test_eoi_ends_a_message_without_terminator(lab):
    rm, emulators, _ = lab
    gen = open_(rm, emulators, "GPIB0::19::INSTR")
    gen.write_raw(b"*IDN?")
    assert gen.read().startswith("Hewlett-Packard")


def test_small_reads_return_the_reply_in_chunks(lab):
    rm, emulators, _ = lab
    gen = open_(rm, emulators, "GPIB0::19::INSTR")
    gen.write("*IDN?")
    assert gen.read_bytes(5) == b"Hewle"
    assert gen.read().startswith("tt-Packard")


def test_clear_discards_pending_output(lab):
    rm, emulators, _ = lab
    counter = open_(rm, emulators, "GPIB0::16::INSTR", timeout=100)
    counter.write("*IDN?")
    counter.clear()
    with pytest.raises(pyvisa.VisaIOError):
        counter.read()


def test_unknown_resource_is_not_found(lab):
    rm, _, _ = lab
    with pytest.raises(pyvisa.VisaIOError) as info:
        rm.open_resource("GPIB0::29::INSTR")
    assert info.value.error_code == constants.StatusCode.error_resource_not_found


def test_fault_hook_can_lose_or_garble_replies():
    gen = HP8647AEmulator()
    lib = SimVisaLibrary.from_emulators({"GPIB0::19::INSTR": gen})
    rm = pyvisa.ResourceManager(lib)
    inst = rm.open_resource("GPIB0::19::INSTR", read_termination="\n", timeout=100)
    lib.set_fault("GPIB0::19::INSTR", lambda direction, data: None if direction == "read" else data)
    with pytest.raises(pyvisa.VisaIOError):
        inst.query("*IDN?")
    lib.set_fault("GPIB0::19::INSTR", lambda direction, data: data.replace(b"Packard", b"Pxckard"))
    assert inst.query("*IDN?").startswith("Hewlett-Pxckard")
    lib.set_fault("GPIB0::19::INSTR", None)
    assert inst.query("*IDN?").startswith("Hewlett-Packard")
    rm.close()


def test_non_gpib_resource_names_work_too():
    laser = TLB6300Emulator(power_factor=lambda mA: 1.0)
    lockin = SR830Emulator(SimClock())
    lib = SimVisaLibrary.from_emulators({"ASRL1::INSTR": laser,
                                         "TCPIP0::10.0.0.5::1234::SOCKET": lockin})
    rm = pyvisa.ResourceManager(lib)
    assert rm.open_resource("ASRL1::INSTR", read_termination="\r\n").query("*IDN?").startswith("New")
    sock = rm.open_resource("TCPIP0::10.0.0.5::1234::SOCKET", read_termination="\n",
                            write_termination="\n")
    assert sock.query("*IDN?").startswith("Stanford")
    rm.close()


def test_at_kmorsim_serves_the_default_factory_and_can_be_replaced():
    rm = pyvisa.ResourceManager("@kmorsim")
    assert "GPIB0::19::INSTR" in rm.list_resources()
    rm.close()
    gen = HP8647AEmulator()
    visa_backend.set_default_factory(lambda: {"GPIB0::7::INSTR": gen})
    try:
        rm = pyvisa.ResourceManager("@kmorsim")
        assert rm.list_resources() == ("GPIB0::7::INSTR",)
        rm.open_resource("GPIB0::7::INSTR", write_termination="\n").write("FREQ:CW 3 MHZ")
        assert gen.freq_hz == 3e6
        rm.close()
    finally:
        visa_backend.set_default_factory(default_emulators)
