"""Wi-Fi radio sampling through whatever RadioBackend it is given."""

from __future__ import annotations

from pathlib import Path

from edge_agent.collectors.wifi import (
    NeighbourNetwork,
    RadioStatus,
    RadioUnavailable,
    StationStatus,
    WifiCollector,
    neighbour_summary,
    retry_ratios,
)
from edge_agent.wifi.hostapd_replies import parse_sta_replies, parse_status
from edge_agent.wifi.radio import HostapdRadio

DATA = Path(__file__).resolve().parents[2] / "data" / "wifi"

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
        "tx_power_dbm": 17.0, "station_count": 4, "band": "2.4GHz",
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


def test_neighbour_summary_counts_networks_and_keeps_the_loudest_per_band_and_channel():
    summary = neighbour_summary([
        NeighbourNetwork("aa", 6, -70.0, 20, "2.4GHz"),
        NeighbourNetwork("bb", 6, -52.0, 40, "2.4GHz"),
        NeighbourNetwork("cc", 11, None, 20, "2.4GHz"),
    ])
    assert summary == {"networks": 3, "2.4GHz_networks": 3, "2.4GHz_ch6_networks": 2,
                       "2.4GHz_ch6_loudest_dbm": -52.0, "2.4GHz_ch11_networks": 1, "2.4GHz_ch11_loudest_dbm": None}


def test_neighbours_on_the_same_number_in_two_bands_are_counted_apart():
    # A scan that heard 2412 MHz (2.4 GHz channel 1) and 5955 MHz (6 GHz channel 1)
    summary = neighbour_summary([NeighbourNetwork("aa", 1, -60.0, 20, "2.4GHz"),
                                 NeighbourNetwork("bb", 1, -45.0, 160, "6GHz")])
    assert (summary["2.4GHz_ch1_networks"], summary["2.4GHz_ch1_loudest_dbm"]) == (1, -60.0)
    assert (summary["6GHz_ch1_networks"], summary["6GHz_ch1_loudest_dbm"]) == (1, -45.0)
    assert "ch1_networks" not in summary


def test_a_neighbour_of_unknown_band_counts_only_in_the_total():
    assert neighbour_summary([NeighbourNetwork("aa", 1, -60.0, 20)]) == {"networks": 1}


class RadioWithOneStation(FakeRadio):
    def __init__(self, status: RadioStatus):
        super().__init__()
        self.status = status

    def radio_status(self, interface):
        return self.status

    def stations(self, interface):
        return [station("02:00:00:00:00:01", 10, 0)]


def test_an_unknown_radio_channel_stays_unknown_and_stations_get_no_band():
    unknown = RadioStatus(channel=None, freq_mhz=None, width_mhz=None, noise_dbm=None, busy_ratio=None,
                          tx_power_dbm=None, station_count=1)
    radio_sample, station_sample = WifiCollector(5.0, "wlan1", RadioWithOneStation(unknown)).collect(0.0, 0.0)
    assert (radio_sample.metrics["channel"], radio_sample.metrics["freq_mhz"], radio_sample.metrics["band"]) == \
        (None, None, None)
    assert station_sample.metrics["band_ghz"] is None


def test_a_6_ghz_radio_labels_its_stations_6_ghz():
    six = RadioStatus(channel=2, freq_mhz=5935, width_mhz=20, noise_dbm=None, busy_ratio=None,
                      tx_power_dbm=None, station_count=1)
    radio_sample, station_sample = WifiCollector(5.0, "wlan1", RadioWithOneStation(six)).collect(0.0, 0.0)
    assert (radio_sample.metrics["band"], station_sample.metrics["band_ghz"]) == ("6GHz", 6)


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


class RecordedHostapd:
    """hostapd's STATUS and station list as recorded on a real AP."""

    def status(self):
        return parse_status((DATA / "hostapd_cli_status__plume-design_opensync.txt").read_text())

    def stations(self):
        return parse_sta_replies((DATA / "hostapd_cli_sta__plume-design_opensync.txt").read_text())

    def close(self):
        pass


def test_a_collection_with_one_corrupt_station_block_reports_the_other_stations_and_counts_it():
    good = "Station 02:00:00:00:00:0{n} (on wlan0)\n\tsignal:  \t-5{n} dBm\n\ttx packets:\t100\n"
    corrupt = "Station 02:00:00:00:00:02 (on wlan0)\n\ttx packets:\t" + "9" * 5000 + "\n"
    dump = good.format(n=1) + corrupt + good.format(n=3)
    backend = HostapdRadio(Path("/run/hostapd"), scan_interval_s=1e9,
                           run=lambda argv: dump if "station" in argv else "",
                           connect=lambda directory, interface: RecordedHostapd())
    samples = WifiCollector(5.0, "wlan0", backend).collect(0.0, 0.0)
    stations = {s.subject: s.metrics["signal_dbm"] for s in samples if s.stream == "wifi.station"}
    [radio] = [s for s in samples if s.stream == "wifi.radio"]
    assert stations == {"02:00:00:00:00:01": -51.0, "02:00:00:00:00:03": -53.0}
    assert radio.metrics["parse_errors"] == 1


def test_stations_that_cannot_be_read_lose_that_round_only_and_keep_the_radio_sample():
    class FlakyStations(RadioWithStations):
        def stations(self, interface):
            reading = self.readings.pop(0)
            if reading is None:
                raise RadioUnavailable("iw dev wlan1 station dump did not finish within 5 s")
            return reading

    collector = WifiCollector(5.0, "wlan1", FlakyStations([
        [station("aa:00:00:00:00:01", 1000, 100)],
        None,
        [station("aa:00:00:00:00:01", 1400, 220)],
    ]))
    collector.collect(0.0, 0.0)
    during = collector.collect(5.0, 5.0)
    after = [s for s in collector.collect(10.0, 10.0) if s.stream == "wifi.station"]
    assert [s.stream for s in during] == ["wifi.radio"]
    assert after[0].metrics["retry_ratio"] == 0.3  # against the last reading that was read


def test_a_scan_that_fails_adds_no_neighbours_sample_and_the_rest_is_reported():
    class FailingScan(FakeRadio):
        def neighbours(self, interface):
            raise RadioUnavailable("iw dev wlan1 scan failed (240): Device or resource busy")

    samples = WifiCollector(5.0, "wlan1", FailingScan()).collect(0.0, 0.0)
    assert [s.stream for s in samples] == ["wifi.radio"]


class TwoRadios:
    """wlan0 on 2.4 GHz with one station; wlan1 on 5 GHz, down; the same MAC seen on both in turn."""

    def __init__(self) -> None:
        self.down = {"wlan1"}

    def radio_status(self, interface):
        if interface in self.down:
            raise RadioUnavailable(f"no reply from hostapd on {interface}")
        channel, freq = {"wlan0": (1, 2412), "wlan1": (36, 5180)}[interface]
        return RadioStatus(channel=channel, freq_mhz=freq, width_mhz=20, noise_dbm=None, busy_ratio=0.2,
                           tx_power_dbm=None, station_count=1)

    def stations(self, interface):
        return [StationStatus("02:00:00:00:00:01", -50.0, 100.0, None, 100, 10, 0, 0, 5)]


def test_every_radio_is_read_on_its_own_and_one_down_costs_only_its_samples():
    backend = TwoRadios()
    samples = WifiCollector(5.0, ["wlan0", "wlan1"], backend).collect(0.0, 0.0)
    radios = {s.subject: s.metrics for s in samples if s.stream == "wifi.radio"}
    assert radios["wlan0"]["band"] == "2.4GHz" and radios["wlan0"]["channel"] == 1
    assert radios["wlan1"] == {"available": False, "error": "no reply from hostapd on wlan1"}
    [station] = [s for s in samples if s.stream == "wifi.station"]
    assert (station.metrics["interface"], station.metrics["band_ghz"]) == ("wlan0", 2.4)


def test_station_counters_are_kept_per_radio():
    backend = TwoRadios()
    backend.down = set()
    collector = WifiCollector(5.0, ["wlan0", "wlan1"], backend)
    collector.collect(0.0, 0.0)
    later = collector.collect(5.0, 5.0)
    # The same station on two radios: each radio's counters are compared with that radio's last reading only
    assert [(s.metrics["interface"], s.metrics["band_ghz"]) for s in later if s.stream == "wifi.station"] == \
        [("wlan0", 2.4), ("wlan1", 5)]


def test_discovered_radios_are_added_and_kept_up_to_the_cap():
    found = [["wlan0"], ["wlan0", "wlan1", "wlan2"], []]
    collector = WifiCollector(5.0, lambda: found.pop(0), TwoRadios(), max_radios=2)
    assert collector.radios() == ["wlan0"]
    assert collector.radios() == ["wlan0", "wlan1"]
    assert collector.radios() == ["wlan0", "wlan1"]


def test_a_multi_link_station_is_judged_by_its_best_link_and_reports_every_link():
    from edge_agent.collectors.wifi import StationLink, station_metrics

    station = StationStatus("02:11:22:33:44:55", -48.0, 2882.4, None, 5000, 40, 1, 120, 300, links=(
        StationLink(0, "5GHz", -71.0, 600.0, 520.0),
        StationLink(1, "6GHz", -55.0, 2882.4, 2401.9),
        StationLink(2, "2.4GHz", None, None, None),
    ))
    metrics = station_metrics(station, "5GHz")
    assert (metrics["signal_dbm"], metrics["band_ghz"], metrics["tx_bitrate_mbps"]) == (-55.0, 6, 2882.4)
    assert (metrics["mld_links"], metrics["best_link"], metrics["worst_link"], metrics["worst_link_signal_dbm"]) \
        == (3, 1, 0, -71.0)
    assert (metrics["link0_band_ghz"], metrics["link0_signal_dbm"], metrics["link0_rx_bitrate_mbps"]) == \
        (5, -71.0, 520.0)
    assert (metrics["link2_band_ghz"], metrics["link2_signal_dbm"]) == (2.4, None)
    plain = station_metrics(StationStatus("02:00:00:00:00:01", -60.0, 144.4, None, 1, 0, 0, 0, 1), "2.4GHz")
    assert plain == {"signal_dbm": -60.0, "band_ghz": 2.4, "tx_bitrate_mbps": 144.4, "rx_bitrate_mbps": None}
