"""Choosing the premises: a Wi-Fi radio in /sys means hardware, unless the config or the operator says otherwise."""

from __future__ import annotations

from pathlib import Path

import pytest

from edge_agent.backends import has_wifi_hardware, premises_mode, select_backends
from edge_agent.clock import ManualClock
from edge_agent.config import AgentConfig
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
    assert premises_mode(config_with_mode("hardware"), force_simulated=True, wifi_hardware=True) == "simulated"


@pytest.mark.parametrize("mode, wifi_hardware", [("hardware", False), ("simulated", True)])
def test_explicit_config_mode_wins_over_detection(mode, wifi_hardware):
    assert premises_mode(config_with_mode(mode), force_simulated=False, wifi_hardware=wifi_hardware) == mode


@pytest.mark.parametrize("wifi_hardware, expected", [(True, "hardware"), (False, "simulated")])
def test_auto_mode_follows_the_wifi_hardware(wifi_hardware, expected):
    assert premises_mode(config_with_mode("auto"), force_simulated=False, wifi_hardware=wifi_hardware) == expected


def test_simulated_backends_are_one_premises_for_radio_and_connectivity():
    backends = select_backends(AgentConfig(), ManualClock(), "simulated")
    assert backends.mode == "simulated"
    assert isinstance(backends.radio, SimulatedPremises)
    assert backends.connectivity is backends.radio


def test_hardware_backends_probe_the_real_network_and_the_notes_say_the_wifi_collector_is_off():
    backends = select_backends(AgentConfig(), ManualClock(), "hardware")
    assert (backends.mode, backends.radio) == ("hardware", None)
    assert isinstance(backends.connectivity, NetworkProbes)
    assert any("wifi collector is off" in note for note in backends.notes)


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
