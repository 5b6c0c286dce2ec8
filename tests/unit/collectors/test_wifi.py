"""Wi-Fi radio sampling through whatever RadioBackend it is given."""

from __future__ import annotations

from edge_agent.collectors.wifi import (
    NeighbourNetwork,
    RadioStatus,
    RadioUnavailable,
    StationStatus,
    WifiCollector,
    neighbour_summary,
    retry_ratios,
)

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


def station(mac: str, packets: int | None, retries: int | None, signal: float = -60.0) -> StationStatus:
    return StationStatus(mac, signal, 144.0, 130.0, packets, retries, 0, 10, 300)


class RadioWithStations(FakeRadio):
    def __init__(self, readings: list[list[StationStatus]]):
        super().__init__()
        self.readings = readings

    def stations(self, interface: str) -> list[StationStatus]:
        return self.readings.pop(0)


def test_station_samples_carry_signal_band_and_retries_per_packet_of_the_interval():
    collector = WifiCollector(5.0, "wlan1", RadioWithStations([
        [station("aa:00:00:00:00:01", 1000, 100)],
        [station("aa:00:00:00:00:01", 1400, 220)],
    ]))
    first = [s for s in collector.collect(0.0, 0.0) if s.stream == "wifi.station"]
    second = [s for s in collector.collect(5.0, 5.0) if s.stream == "wifi.station"]
    assert first[0].metrics["retry_ratio"] is None  # no interval yet
    assert (second[0].subject, second[0].metrics["retry_ratio"], second[0].metrics["band_ghz"]) == \
        ("aa:00:00:00:00:01", 0.3, 2.4)


def test_a_station_counter_reset_gives_no_ratio_rather_than_a_negative_one():
    before, after = station("aa", 1000, 500), station("aa", 1200, 10)
    assert retry_ratios(before, after) == (None, 0.0)


def test_a_radio_that_cannot_be_read_becomes_an_unavailable_sample():
    class DeadRadio:
        def radio_status(self, interface):
            raise RadioUnavailable("STATUS: no reply from hostapd within 2 s")

    [sample] = WifiCollector(5.0, "wlan1", DeadRadio()).collect(0.0, 0.0)
    assert dict(sample.metrics) == {"available": False, "error": "STATUS: no reply from hostapd within 2 s"}


def test_neighbour_summary_counts_networks_and_keeps_the_loudest_per_channel():
    summary = neighbour_summary([
        NeighbourNetwork("aa", 6, -70.0, 20),
        NeighbourNetwork("bb", 6, -52.0, 40),
        NeighbourNetwork("cc", 11, None, 20),
    ])
    assert summary == {"networks": 3, "ch6_networks": 2, "ch6_loudest_dbm": -52.0, "ch11_networks": 1,
                       "ch11_loudest_dbm": None}


def test_a_fresh_scan_becomes_a_neighbours_sample_and_no_scan_adds_nothing():
    class ScanningRadio(FakeRadio):
        def __init__(self, scans):
            super().__init__()
            self.scans = scans

        def neighbours(self, interface):
            return self.scans.pop(0)

    collector = WifiCollector(5.0, "wlan1", ScanningRadio([[NeighbourNetwork("aa", 1, -60.0, 20)], None]))
    first = [s for s in collector.collect(0.0, 0.0) if s.stream == "wifi.neighbours"]
    second = [s for s in collector.collect(5.0, 5.0) if s.stream == "wifi.neighbours"]
    assert first[0].metrics["networks"] == 1 and second == []
