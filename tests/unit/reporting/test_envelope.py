"""The v1 envelope: identity, a gapless per-boot sequence and both clocks on every message."""

from __future__ import annotations

import threading

from edge_agent import __version__
from edge_agent.reporting.envelope import SCHEMA_ISSUE, SCHEMA_TELEMETRY, EnvelopeFactory

ENVELOPE_FIELDS = {"schema", "id", "device_id", "site_id", "agent_version", "boot_id", "seq", "ts", "mono_ms",
                   "clock_synced"}


def factory(clock_synced=lambda: True) -> EnvelopeFactory:
    return EnvelopeFactory("gw-7", "site-3", clock_synced)


def test_envelope_carries_every_contract_field():
    message = factory().wrap(SCHEMA_ISSUE, {}, ts=1_700_000_000.0, mono=12.0)
    assert set(message) == ENVELOPE_FIELDS


def test_envelope_names_the_schema_device_site_and_agent_version():
    message = factory().wrap(SCHEMA_TELEMETRY, {}, ts=1_700_000_000.0, mono=12.0)
    assert (message["schema"], message["device_id"], message["site_id"], message["agent_version"]) == (
        "edge.telemetry/1", "gw-7", "site-3", __version__)


def test_body_fields_sit_beside_the_envelope_fields():
    message = factory().wrap(SCHEMA_ISSUE, {"issue_id": "abc", "change": "opened"}, ts=1.0, mono=1.0)
    assert (message["issue_id"], message["change"]) == ("abc", "opened")


def test_wall_time_is_kept_to_the_millisecond_and_monotonic_time_as_whole_milliseconds():
    message = factory().wrap(SCHEMA_ISSUE, {}, ts=1_700_000_000.123456, mono=12.3456789)
    assert (message["ts"], message["mono_ms"]) == (1_700_000_000.123, 12345)


def test_clock_synced_is_asked_for_every_message():
    answers = iter([True, False, None])
    envelopes = factory(clock_synced=lambda: next(answers))
    assert [envelopes.wrap(SCHEMA_ISSUE, {}, 1.0, 1.0)["clock_synced"] for _ in range(3)] == [True, False, None]


def test_seq_starts_at_one_and_goes_up_by_one():
    envelopes = factory()
    assert [envelopes.wrap(SCHEMA_ISSUE, {}, 1.0, 1.0)["seq"] for _ in range(4)] == [1, 2, 3, 4]


def test_every_message_has_its_own_id():
    envelopes = factory()
    assert len({envelopes.wrap(SCHEMA_ISSUE, {}, 1.0, 1.0)["id"] for _ in range(100)}) == 100


def test_boot_id_is_the_same_for_one_start_and_new_for_the_next():
    first, second = factory(), factory()
    assert first.wrap(SCHEMA_ISSUE, {}, 1.0, 1.0)["boot_id"] == first.wrap(SCHEMA_ISSUE, {}, 2.0, 2.0)["boot_id"]
    assert first.boot_id != second.boot_id


def test_seq_is_unique_gapless_and_increasing_per_thread_across_threads():
    envelopes = factory()
    per_thread: dict[int, list[int]] = {}
    start = threading.Barrier(8)

    def publish(n: int) -> None:
        start.wait()
        per_thread[n] = [envelopes.wrap(SCHEMA_TELEMETRY, {}, 1.0, 1.0)["seq"] for _ in range(500)]

    threads = [threading.Thread(target=publish, args=(n,)) for n in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=10)
    all_seqs = sorted(seq for seqs in per_thread.values() for seq in seqs)
    assert all_seqs == list(range(1, 8 * 500 + 1))
    assert all(seqs == sorted(seqs) for seqs in per_thread.values())


def test_on_real_time_there_is_no_simulated_time_field():
    assert "sim_ts" not in factory().wrap(SCHEMA_ISSUE, {}, ts=1_700_000_000.0, mono=12.0)


def test_on_simulated_time_ts_stays_the_real_wall_clock_and_the_simulated_time_is_sim_ts():
    simulated = EnvelopeFactory("gw-7", "site-3", lambda: True, real_wall=lambda: 1_700_000_000.0)
    message = simulated.wrap(SCHEMA_ISSUE, {}, ts=1_700_086_400.25, mono=86_400.0)  # a day ahead, as at --speed
    assert (message["ts"], message["sim_ts"]) == (1_700_000_000.0, 1_700_086_400.25)
    assert set(message) == ENVELOPE_FIELDS | {"sim_ts"}


def test_presence_takes_no_sequence_number_so_reconnects_leave_no_gaps():
    factory = EnvelopeFactory("gw-1", "site-1", lambda: True)
    will = factory.wrap_presence("edge.status/1", {"state": "offline"}, 1.0, 1.0)
    first = factory.wrap("edge.issue/1", {}, 1.0, 1.0)
    for _ in range(5):  # five reconnects: a will and an online status each
        factory.wrap_presence("edge.status/1", {"state": "offline"}, 1.0, 1.0)
        factory.wrap_presence("edge.status/1", {"state": "online"}, 1.0, 1.0)
    second = factory.wrap("edge.issue/1", {}, 1.0, 1.0)
    assert (will["seq"], first["seq"], second["seq"]) == (0, 1, 2)
    assert factory.wrap_presence("edge.meta/1", {}, 1.0, 1.0)["seq"] == 2
