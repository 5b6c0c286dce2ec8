"""Choosing the premises: hardware unless simulation is asked for; a box without a radio is a wired-only gateway."""

from __future__ import annotations

from pathlib import Path

import psutil
import pytest

from edge_agent.backends import has_wifi_hardware, premises_mode, select_backends
from edge_agent.cli import EX_ISSUES_FOUND, EX_OK, main
from edge_agent.clock import ManualClock
from edge_agent.collectors.catalog import build_collectors
from edge_agent.collectors.wifi import WifiCollector
from edge_agent.config import AgentConfig
from edge_agent.paths import SERVICE_RUNTIME_DIR
from edge_agent.probes.network import NetworkProbes
from edge_agent.sim.premises import SimulatedPremises
from edge_agent.wifi.radio import HostapdRadio


def sys_class_net(root: Path, **nics: str | None) -> Path:
    """A fake /sys/class/net: each nic gets the named marker entry (`wireless`, `phy80211`) or none."""
    for nic, marker in nics.items():
        (root / nic).mkdir(parents=True)
        if marker:
            (root / nic / marker).mkdir()
    return root


def config_with_mode(mode: str) -> AgentConfig:
    return AgentConfig.model_validate({"premises": {"mode": mode}})


def test_no_sys_class_net_means_no_wifi_hardware(tmp_path):
    assert has_wifi_hardware(tmp_path / "absent") is False


def test_wired_interfaces_only_mean_no_wifi_hardware(tmp_path):
    assert has_wifi_hardware(sys_class_net(tmp_path, lo=None, eth0=None)) is False


@pytest.mark.parametrize("marker", ["wireless", "phy80211"])
def test_an_interface_with_a_cfg80211_entry_is_wifi_hardware(tmp_path, marker):
    assert has_wifi_hardware(sys_class_net(tmp_path, eth0=None, wlan0=marker)) is True


def test_simulate_flag_wins_over_a_hardware_config():
    assert premises_mode(config_with_mode("hardware"), force_simulated=True) == "simulated"


def test_the_default_premises_are_hardware_whatever_the_machine_has():
    # On a box without a radio (this one) the old default simulated and a wired-only gateway reported fiction.
    assert premises_mode(AgentConfig(), force_simulated=False) == "hardware"


def test_auto_in_an_older_config_means_hardware_never_simulation():
    config = config_with_mode("auto")
    assert config.premises.mode == "hardware"
    assert premises_mode(config, force_simulated=False) == "hardware"


def test_simulation_is_chosen_by_the_config_when_asked():
    assert premises_mode(config_with_mode("simulated"), force_simulated=False) == "simulated"


def test_an_unknown_premises_mode_is_a_config_error_naming_the_choices():
    with pytest.raises(ValueError, match="hardware.*simulated"):
        config_with_mode("fallback")


def test_simulated_backends_are_one_premises_for_radio_and_connectivity():
    backends = select_backends(AgentConfig(), ManualClock(), "simulated")
    assert backends.mode == "simulated"
    assert isinstance(backends.radio, SimulatedPremises)
    assert backends.connectivity is backends.radio


def test_hardware_backends_probe_the_real_network_and_the_notes_say_the_wifi_collector_is_off(tmp_path):
    backends = select_backends(AgentConfig(), ManualClock(), "hardware", sys_class_net=sys_class_net(tmp_path))
    assert (backends.mode, backends.radio) == ("hardware", None)
    assert isinstance(backends.connectivity, NetworkProbes)
    assert any("wifi collector is off" in note for note in backends.notes)


def test_a_wired_only_gateway_runs_on_hardware_with_wifi_off_for_want_of_a_radio(tmp_path):
    wired = sys_class_net(tmp_path / "net", lo=None, eth0=None)
    config = AgentConfig.model_validate({"collectors": {"wifi": {"hostapd_ctrl_dir": str(tmp_path)}}})
    backends = select_backends(config, ManualClock(), "hardware", sys_class_net=wired)
    assert backends.mode == "hardware"
    assert list(backends.unavailable) == ["wifi"]
    assert backends.unavailable["wifi"].startswith("no radio")
    assert isinstance(backends.connectivity, NetworkProbes)  # the rest runs for real
    assert backends.simulated_host is None  # system and interfaces read this machine


def test_a_radio_whose_hostapd_is_not_running_at_start_is_still_read_and_reads_unavailable(tmp_path):
    # A hostapd that failed at boot must be an issue, not Wi-Fi left unwatched until the agent restarts.
    radio = sys_class_net(tmp_path / "net", eth0=None, wlan0="phy80211")
    config = AgentConfig.model_validate({"collectors": {"wifi": {"hostapd_ctrl_dir": str(tmp_path)}}})
    backends = select_backends(config, ManualClock(), "hardware", sys_class_net=radio)
    assert backends.unavailable == {}
    assert isinstance(backends.radio, HostapdRadio) and backends.radios() == ["wlan0"]
    assert any(note.startswith(f"waiting for hostapd: no control socket in {tmp_path}") for note in backends.notes)
    collector = WifiCollector(10.0, backends.radios, backends.radio)
    [sample] = collector.collect(0.0, 1.0)
    assert (sample.stream, sample.subject, sample.metrics["available"]) == ("wifi.radio", "wlan0", False)
    assert str(tmp_path / "wlan0") in sample.metrics["error"]


def wifi_config(ctrl_dir: Path, conf_dir: Path) -> AgentConfig:
    return AgentConfig.model_validate({"collectors": {"wifi": {"hostapd_ctrl_dir": str(ctrl_dir),
                                                               "hostapd_conf_dir": str(conf_dir)}}})


def test_a_wifi_chip_used_as_a_client_with_no_hostapd_anywhere_is_left_alone(tmp_path):
    # A hub on the home Wi-Fi: no hostapd ran this boot and none is configured. Reading it as an access point
    # would raise wifi_radio_down and start hostapd on the hub's own uplink.
    radio = sys_class_net(tmp_path / "net", eth0=None, wlan0="phy80211")
    config = wifi_config(tmp_path / "run-hostapd", tmp_path / "etc-hostapd")
    backends = select_backends(config, ManualClock(), "hardware", sys_class_net=radio)
    assert backends.radio is None
    assert backends.unavailable["wifi"].startswith(f"no hostapd control socket at {tmp_path / 'run-hostapd'}")


def test_a_radio_hostapd_is_configured_to_serve_is_watched_before_hostapd_ever_ran(tmp_path):
    radio = sys_class_net(tmp_path / "net", eth0=None, wlan0="phy80211")
    (tmp_path / "etc-hostapd").mkdir()
    (tmp_path / "etc-hostapd" / "hostapd.conf").write_text("# home\ninterface=wlan0\nssid=home\n")
    config = wifi_config(tmp_path / "run-hostapd", tmp_path / "etc-hostapd")
    backends = select_backends(config, ManualClock(), "hardware", sys_class_net=radio)
    assert isinstance(backends.radio, HostapdRadio) and backends.unavailable == {}


def test_the_interfaces_a_hostapd_configuration_serves_are_read_from_its_interface_and_bss_lines():
    from edge_agent.wifi.discovery import interfaces_in_hostapd_conf

    text = ("#interface=wlan9\ninterface=wlan1\n interface = wlan0\nbss=wlan1-guest\nssid=interface=wlan3\n"
            "interface=-rf\ninterface=../../x\nbss=\x00\n")
    # Commented out, a value of another key, spaces hostapd itself would not accept, or no interface's name: none.
    assert interfaces_in_hostapd_conf(text) == {"wlan1", "wlan1-guest"}


def test_a_disabled_wifi_collector_is_not_reported_unavailable(tmp_path):
    config = AgentConfig.model_validate({"collectors": {"wifi": {"enabled": False}}})
    backends = select_backends(config, ManualClock(), "hardware", sys_class_net=sys_class_net(tmp_path))
    assert backends.unavailable == {}


def test_hardware_probes_add_the_mqtt_broker_to_the_uplink_endpoints():
    config = AgentConfig.model_validate({
        "mqtt": {"enabled": True, "host": "broker.example.net", "port": 8883},
        "collectors": {"connectivity": {"uplink_endpoints": ["192.0.2.10:443"]}},
    })
    backends = select_backends(config, ManualClock(), "hardware")
    assert backends.connectivity.uplinks == ["192.0.2.10:443", "broker.example.net:8883"]


def test_hardware_wifi_comes_from_hostapd_when_its_control_socket_exists(short_tmp):
    (short_tmp / "wlan0").touch()  # where hostapd's socket would be
    config = AgentConfig.model_validate({"collectors": {"wifi": {"hostapd_ctrl_dir": str(short_tmp)}}})
    backends = select_backends(config, ManualClock(), "hardware")
    assert isinstance(backends.radio, HostapdRadio)
    assert any(str(short_tmp / "wlan0") in note for note in backends.notes)


def refuse_to_read_this_host(monkeypatch) -> None:
    """Every psutil reading the system and interfaces collectors could make of this machine fails the test."""
    def host_read(*args, **kwargs):
        raise AssertionError("the real host was read under simulation")

    for name in ("cpu_percent", "virtual_memory", "swap_memory", "getloadavg", "boot_time", "disk_usage",
                 "process_iter", "net_io_counters", "net_if_stats", "sensors_temperatures"):
        monkeypatch.setattr(psutil, name, host_read)


def test_under_simulation_system_and_interfaces_read_the_simulated_gateway_not_this_host(monkeypatch):
    refuse_to_read_this_host(monkeypatch)
    config = AgentConfig.model_validate({"collectors": {"system": {"watched_processes": ["dnsmasq", "sshd"]}}})
    collectors = {c.name: c for c in build_collectors(config, select_backends(config, ManualClock(), "simulated"))}
    samples = [s for name in ("system", "interfaces") for s in collectors[name].collect(1000.0, 1_700_000_000.0)]
    by_stream = {(s.stream, s.subject): dict(s.metrics) for s in samples}
    assert 0 <= by_stream[("system", "host")]["cpu_percent"] < 50
    assert by_stream[("system.process", "dnsmasq")]["running"] is True
    assert by_stream[("system.process", "sshd")]["running"] is False
    assert {s.subject for s in samples if s.stream == "interface"} == {"eth0", "wlan0"}  # the gateway's, not ours


def test_simulated_interface_counters_grow_with_simulated_time_into_rates():
    clock = ManualClock()
    config = AgentConfig.model_validate({"collectors": {"interfaces": {"include": ["eth0"]}}})
    [interfaces] = [c for c in build_collectors(config, select_backends(config, clock, "simulated"))
                    if c.name == "interfaces"]
    interfaces.collect(clock.monotonic(), clock.wall())
    clock.advance(10.0)
    [eth0] = interfaces.collect(clock.monotonic(), clock.wall())
    assert eth0.metrics["is_up"] is True
    assert eth0.metrics["rx_bps"] > 1_000_000 and eth0.metrics["errors_per_s"] == 0


def test_the_emulated_access_point_gets_a_runtime_directory_of_its_own_removed_at_close():
    config = AgentConfig.model_validate({"simulation": {"hostapd_emulation": True}})
    backends = select_backends(config, ManualClock(), "simulated")
    try:
        socket_dir = backends.radio.ctrl_dir
        assert not socket_dir.is_relative_to(SERVICE_RUNTIME_DIR) and socket_dir.is_dir()
    finally:
        for close in backends.closers:
            close()
    assert not socket_dir.parent.exists()


def test_diagnose_on_a_box_without_a_radio_reports_hardware_premises_and_wifi_no_radio(tmp_path, monkeypatch, capsys):
    monkeypatch.setattr("edge_agent.backends.SYS_CLASS_NET", sys_class_net(tmp_path / "net", lo=None, eth0=None))
    config = tmp_path / "agent.toml"  # the default premises; no probe leaves this machine, nor a camera is opened
    config.write_text(f'[collectors.wifi]\nhostapd_ctrl_dir = "{tmp_path}"\n[collectors.connectivity]\n'
                      'enabled = false\n[camera]\nenabled = false\n')
    status = main(["diagnose", "--standalone", "--config", str(config)])
    out = capsys.readouterr().out
    assert status in (EX_OK, EX_ISSUES_FOUND)  # whatever this host's own health is
    assert "(standalone, hardware premises)" in out and "simulated" not in out
    assert out.count("collector wifi off: no radio") == 1


def test_the_meta_card_carries_what_the_radio_can_do(tmp_path):
    from edge_agent.agent.daemon import Agent
    from edge_agent.agent.status import meta_card
    from edge_agent.reporting.contract import RadioCard

    config = AgentConfig.model_validate({
        "agent": {"state_dir": str(tmp_path / "state")}, "control": {"socket_path": str(tmp_path / "ctl.sock")},
        "simulation": {"band": 6, "channel": 37, "csa_supported": False},
        "remediation": {"channel": {"restart_fallback": True}}})
    agent = Agent(config, None, mode="simulated", clock=ManualClock(), env={})
    try:
        radio = RadioCard.model_validate(meta_card(agent)["radio"])
    finally:
        agent.reporter.close()
    assert (radio.bands, radio.channel_switch, radio.switch_method) == (["6GHz"], False, "restart")


@pytest.mark.parametrize("hostapd_emulation", [False, True])
def test_the_meta_card_lists_every_radio_of_a_multi_radio_gateway(tmp_path, hostapd_emulation: bool):
    from edge_agent.agent.daemon import Agent
    from edge_agent.agent.status import meta_card
    from edge_agent.reporting.contract import MetaMessage

    radios = [{"interface": "wlan0", "band": 2.4, "channel": 6},
              {"interface": "wlan1", "band": 5, "channel": 36, "width_mhz": 40},
              {"interface": "wlan2", "band": 6, "channel": 37, "width_mhz": 80}]
    config = AgentConfig.model_validate({
        "agent": {"state_dir": str(tmp_path / "state")}, "control": {"socket_path": str(tmp_path / "ctl.sock")},
        "collectors": {"wifi": {"interfaces": "auto"}},
        "simulation": {"radios": radios, "cycle_s": None, "faults": [], "hostapd_emulation": hostapd_emulation}})
    agent = Agent(config, None, mode="simulated", clock=ManualClock(), env={})
    try:
        card = meta_card(agent)
        message = agent.envelopes.wrap_presence("edge.meta/1", card, 0.0, 0.0)
        MetaMessage.model_validate(message)  # the contract holds the list
    finally:
        agent.reporter.close()
    assert [(r["interface"], r["bands"]) for r in card["radios"]] == [
        ("wlan0", ["2.4GHz"]), ("wlan1", ["5GHz"]), ("wlan2", ["6GHz"])]
    assert card["radio"]["interface"] == "wlan0"


def test_a_gateway_with_no_camera_and_no_model_never_loads_numpy_or_an_interpreter(tmp_path):
    """About 30 MiB of a gateway's memory: numpy and the TFLite interpreter load only where a model or a camera
    needs them (issue 20's memory budget)."""
    import subprocess
    import sys
    from pathlib import Path

    if any(Path("/dev").glob("video[0-9]*")):
        pytest.skip("this machine has a camera: the camera stack would rightly load")
    script = f"""
import sys
from edge_agent.agent.daemon import Agent
from edge_agent.clock import ManualClock
from edge_agent.config import AgentConfig
config = AgentConfig.model_validate({{"agent": {{"state_dir": "{tmp_path}/state"}},
                                     "control": {{"socket_path": "{tmp_path}/ctl.sock"}}}})
agent = Agent(config, None, mode="hardware", clock=ManualClock(), env={{}})
loaded = sorted(m for m in sys.modules if m.split(".")[0] in ("numpy", "tflite_runtime", "ai_edge_litert", "cv2"))
print(loaded[:5])
"""
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "[]"
