"""Wi-Fi radio sampling through whatever RadioBackend it is given."""

from __future__ import annotations

from edge_agent.collectors.wifi import RadioStatus, WifiCollector

STATUS = RadioStatus(channel=11, freq_mhz=2462, width_mhz=20, noise_dbm=-92.0, busy_ratio=0.31,
                     tx_power_dbm=17.0, station_count=4)


class FakeRadio:
    def __init__(self) -> None:
        self.asked: list[str] = []

    def radio_status(self, interface: str) -> RadioStatus:
        self.asked.append(interface)
        return STATUS


def test_backend_is_asked_about_the_configured_interface():
    radio = FakeRadio()
    WifiCollector(5.0, "wlan1", radio).collect(0.0, 0.0)
    assert radio.asked == ["wlan1"]


def test_one_radio_sample_per_collection_named_after_the_interface():
    [sample] = WifiCollector(5.0, "wlan1", FakeRadio()).collect(3.0, 1_700_000_003.0)
    assert (sample.stream, sample.subject, sample.mono, sample.ts) == ("wifi.radio", "wlan1", 3.0, 1_700_000_003.0)


def test_radio_sample_carries_every_radio_field():
    [sample] = WifiCollector(5.0, "wlan1", FakeRadio()).collect(0.0, 0.0)
    assert dict(sample.metrics) == {
        "channel": 11, "freq_mhz": 2462, "width_mhz": 20, "noise_dbm": -92.0, "busy_ratio": 0.31,
        "tx_power_dbm": 17.0, "station_count": 4,
    }
