"""`edge-agent fleet report` from the command line: recordings or a store, text, JSON or a page, and clear errors."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

from edge_agent.cli import main
from edge_agent.exit_codes import EX_NOINPUT, EX_OK, EX_USAGE
from edge_agent.fleet.store import FleetStore
from edge_agent.fleet.synthetic import build_fleet, parsed_events

T0 = 1_700_000_000.0


@pytest.fixture
def fleet_files(tmp_path: Path):
    fleet = build_fleet(devices=4, issues_per_device=3, start_ts=T0, span_s=3600, seed=8)
    events = parsed_events(fleet.messages, T0)
    recording = tmp_path / "events.jsonl"
    recording.write_text("".join(json.dumps(e) + "\n" for e in events) + json.dumps({"summary": {}}) + "\n")
    url = f"sqlite://{tmp_path}/fleet.db"
    store = FleetStore(url)
    store.record(events)
    store.close()
    return recording, url, fleet.truth


def test_the_store_and_the_recording_give_the_same_json_report(fleet_files, capsys):
    recording, url, truth = fleet_files
    assert main(["fleet", "report", str(recording), "--json"]) == EX_OK
    from_recording = json.loads(capsys.readouterr().out)
    assert main(["fleet", "report", "--store", url, "--json"]) == EX_OK
    from_store = json.loads(capsys.readouterr().out)
    assert from_store == from_recording
    assert from_store["outcomes"] == {c: truth.outcomes[c] for c in from_store["outcomes"]}


def test_html_is_written_beside_the_text_report(fleet_files, tmp_path: Path, capsys):
    _, url, truth = fleet_files
    page = tmp_path / "fleet.html"
    assert main(["fleet", "report", "--store", url, "--html", str(page)]) == EX_OK
    assert f"{truth.devices} gateways, {truth.issues} issues" in page.read_text()
    assert capsys.readouterr().out.startswith(f"{truth.devices} gateways, {truth.issues} issues opened")


@pytest.mark.parametrize("argv, message", [
    (["fleet", "report"], "either recordings"),
    (["fleet", "report", "x.jsonl", "--store", "sqlite:///tmp/x.db"], "either recordings"),
    (["fleet", "report", "--store", "oracle://db"], "--store: 'oracle://db'"),
    (["fleet", "report", "--store", "sqlite:///nonexistent/dir/fleet.db"], "no fleet store at"),
])
def test_a_wrong_source_is_one_clear_line_and_a_usage_error(argv: list[str], message: str, capsys):
    assert main(argv) == EX_USAGE
    err = capsys.readouterr().err
    assert message in err and "Traceback" not in err


def test_a_recording_that_is_not_there_is_named_in_words_and_ex_noinput(tmp_path: Path, capsys):
    missing = tmp_path / "events.jsonl"
    assert main(["fleet", "report", str(missing)]) == EX_NOINPUT
    assert capsys.readouterr().err == f"edge-agent: cannot read {missing}: No such file or directory\n"


def test_a_postgresql_store_without_psycopg_says_how_to_install_it_from_the_checkout(monkeypatch, capsys):
    monkeypatch.setitem(sys.modules, "psycopg", None)  # as after a gateway's plain install
    assert main(["fleet", "report", "--store", "postgresql://fleet@db/fleet"]) == EX_USAGE
    assert "pip install '.[fleet]'" in capsys.readouterr().err
