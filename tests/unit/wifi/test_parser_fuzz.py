"""Any text at all - real outputs cut and spliced with digit runs, NULs, undecodable bytes - gives each Wi-Fi
parser a result or a ParseError, never another exception."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from edge_agent.collectors.wifi import RadioUnavailable
from edge_agent.wifi import ParseError
from edge_agent.wifi.radio import HostapdRadio

from .all_parsers import PARSERS, samples_of

MARKERS = ["\x00", "\t", "\r", "\n", ":", "=", "[", "]", "(", ")", "-", "+", ".", ",", "*", " MHz", " dBm",
           " ms", " [in use]", "\ufffd", "Station ", "BSS ", "Survey data from ", "Interface ", "Connected to "]


def _splice(text: str, at: int, insert: str) -> str:
    at %= len(text) + 1
    return text[:at] + insert + text[at:]


def hostile_outputs(name: str) -> st.SearchStrategy[str]:
    """Real outputs of `name`'s command with hostile pieces spliced in, and new outputs assembled from real
    lines, real keys and hostile pieces."""
    samples = samples_of(name)
    separator = PARSERS[name][2]
    lines = sorted({line for text in samples for line in text.splitlines()})
    keys = sorted({line.partition(separator)[0] + separator for line in lines if separator in line})
    piece = st.one_of(
        st.sampled_from(lines),
        st.sampled_from(keys),
        st.sampled_from(MARKERS),
        st.text(max_size=20),
        st.binary(max_size=20).map(lambda raw: raw.decode("utf-8", "surrogateescape")),
        st.binary(max_size=20).map(lambda raw: raw.decode("utf-8", "replace")),
        st.integers(min_value=1, max_value=6000).map(lambda n: "9" * n),  # past int()'s 4300-digit limit
        st.integers(min_value=1, max_value=3000).map(lambda n: " " * n),
        st.integers().map(str),
        st.floats().map(str),
    )
    insert = st.lists(piece, max_size=4).map("".join)
    spliced = st.builds(_splice, st.sampled_from(samples), st.integers(min_value=0), insert)
    assembled = st.lists(st.lists(piece, min_size=1, max_size=4).map("".join), max_size=15).map("\n".join)
    return st.one_of(spliced, assembled)


STRATEGIES = {name: hostile_outputs(name) for name in PARSERS}


@pytest.mark.timeout(120)
@pytest.mark.parametrize("name", sorted(PARSERS))
@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(data=st.data())
def test_any_text_gives_a_result_or_a_parse_error(name, data):
    parse = PARSERS[name][0]
    text = data.draw(STRATEGIES[name], label="output")
    try:
        parse(text)
    except ParseError:
        pass


class RecordedHostapd:
    def status(self):
        return PARSERS["hostapd STATUS"][0](samples_of("hostapd STATUS")[0])

    def stations(self):
        return PARSERS["hostapd STA"][0](samples_of("hostapd STA")[0])

    def close(self):
        pass


@pytest.mark.timeout(120)
@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(data=st.data())
def test_any_iw_output_gives_the_radio_backend_a_reading_or_radio_unavailable(data):
    outputs = {"station": STRATEGIES["iw station dump"], "survey": STRATEGIES["iw survey dump"],
               "scan": STRATEGIES["iw scan"]}
    backend = HostapdRadio(Path("/run/hostapd"), scan_interval_s=0,
                           run=lambda argv: data.draw(outputs[argv[3]], label=argv[3]),
                           connect=lambda directory, interface: RecordedHostapd())
    for read in (backend.radio_status, backend.stations, backend.neighbours):
        try:
            read("wlan0")
        except RadioUnavailable:
            pass
