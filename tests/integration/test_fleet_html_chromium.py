"""`fleet report --html` opened in a real headless Chromium: what it renders (the KPI numbers of a fleet whose truth
is known, the SVG charts, one bar segment per outcome), that it draws, and that the page made no network request
(Chromium's own NetLog; a control page with one remote image shows the check would see one)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from html.parser import HTMLParser
from pathlib import Path

import pytest

from edge_agent.fleet.outcomes import CATEGORIES
from edge_agent.fleet.synthetic import build_fleet, parsed_events

T0 = 1_700_000_000.0
CHROMIUM = next((p for name in ("chromium", "chromium-browser", "google-chrome") if (p := shutil.which(name))), None)
pytestmark = pytest.mark.skipif(CHROMIUM is None, reason="Chromium is not installed (scripts/test.sh installs "
                                "Debian's chromium when run as root)")
# No sync, updates, component downloads or sign-in checks: the browser's own requests stay out of the NetLog.
QUIET = ["--headless", "--disable-gpu", "--no-first-run", "--disable-background-networking", "--disable-sync",
         "--disable-component-update", "--disable-default-apps", "--disable-extensions", "--no-default-browser-check"]


def chromium(tmp_path: Path, page: Path, *args: str) -> str:
    # Chromium's sandbox cannot start as root; the page is our own file.
    sandbox = ["--no-sandbox"] if os.geteuid() == 0 else []
    done = subprocess.run([CHROMIUM, *QUIET, *sandbox, f"--user-data-dir={tmp_path / 'profile'}", *args,
                           page.as_uri()], capture_output=True, text=True, timeout=90)
    assert done.returncode == 0, done.stderr[-2000:]
    return done.stdout


def page_requests(netlog: Path) -> list[str]:
    """URLs the page itself asked the network for: requests in the file:// page's isolation key."""
    text = netlog.read_text()
    try:
        log = json.loads(text)
    except json.JSONDecodeError:  # a log cut at exit lacks its closing brackets
        log = json.loads(text.rstrip().rstrip(",") + "]}")
    start_job = log["constants"]["logEventTypes"]["URL_REQUEST_START_JOB"]
    return [e["params"]["url"] for e in log["events"]
            if e["type"] == start_job and "file://" in e["params"].get("network_isolation_key", "")
            and not e["params"]["url"].startswith("file:")]


class Rendered(HTMLParser):
    """The KPI tiles, SVG ids and bar segments of the rendered DOM."""

    def __init__(self) -> None:
        super().__init__()
        self.kpis: dict[str, str] = {}
        self.svgs: list[str] = []
        self.segments: list[dict[str, str]] = []
        self.ticks = 0
        self._kpi: str | None = None
        self._in_value = False

    def handle_starttag(self, tag: str, attrs: list) -> None:
        a = dict(attrs)
        if "data-kpi" in a:
            self._kpi = a["data-kpi"]
        if tag == "span" and a.get("class") == "value" and self._kpi:
            self._in_value = True
        if tag == "svg":
            self.svgs.append(a.get("id", ""))
        if tag == "rect" and a.get("class", "").startswith("outcome-"):
            self.segments.append(a)
        if tag == "text" and a.get("class") == "time-tick":
            self.ticks += 1

    def handle_data(self, data: str) -> None:
        if self._in_value:
            self.kpis[self._kpi] = data
            self._in_value, self._kpi = False, None


@pytest.fixture(scope="module")
def fleet_page(tmp_path_factory) -> tuple[Path, object]:
    tmp = tmp_path_factory.mktemp("html")
    fleet = build_fleet(devices=25, issues_per_device=4, start_ts=T0, span_s=2 * 86400, seed=42)
    events = parsed_events(fleet.messages, T0)
    recording = tmp / "events.jsonl"
    recording.write_text("".join(json.dumps(e) + "\n" for e in events))
    page = tmp / "fleet.html"
    done = subprocess.run([sys.executable, "-m", "edge_agent", "fleet", "report", str(recording), "--html",
                           str(page)], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    return page, fleet.truth


def test_chromium_renders_the_true_counts_and_the_charts_and_fetches_nothing(fleet_page, tmp_path: Path):
    page, truth = fleet_page
    netlog = tmp_path / "net.json"
    dom = chromium(tmp_path, page, f"--log-net-log={netlog}", "--dump-dom")
    rendered = Rendered()
    rendered.feed(dom)

    assert rendered.kpis["devices"] == str(truth.devices) and rendered.kpis["issues"] == str(truth.issues)
    for category in CATEGORIES:
        assert rendered.kpis[category] == str(truth.outcomes[category]), category
    assert rendered.kpis["resolved_before_impact"] == str(truth.before_impact)
    assert {"timeline", "share", "outcomes", "hist-detection", "hist-fix"} <= set(rendered.svgs)
    assert rendered.ticks >= 3  # a time axis
    for issue_type, counts in truth.by_type.items():  # one segment per outcome, adding up to the type's issues
        shown = {s["class"].removeprefix("outcome-"): int(s["data-count"]) for s in rendered.segments
                 if s["data-type"] == issue_type}
        assert shown == {c: n for c, n in counts.items() if n}
    assert page_requests(netlog) == []


def test_the_network_check_sees_a_page_that_does_fetch(tmp_path: Path):
    control = tmp_path / "control.html"
    control.write_text('<!DOCTYPE html><html><body><img src="http://127.0.0.1:9/pixel.png"></body></html>')
    netlog = tmp_path / "net.json"
    chromium(tmp_path, control, f"--log-net-log={netlog}", "--dump-dom")
    assert page_requests(netlog) == ["http://127.0.0.1:9/pixel.png"]


def test_the_page_draws_its_charts_in_colour(fleet_page, tmp_path: Path):
    from PIL import Image

    page, _ = fleet_page
    shot = tmp_path / "shot.png"
    chromium(tmp_path, page, f"--screenshot={shot}", "--window-size=900,1400")
    colours = {colour for _, colour in Image.open(shot).convert("RGB").getcolors(maxcolors=1 << 24)}
    assert (0x2E, 0x7D, 0x32) in colours  # fixed by the agent / resolved: the bars were painted
    assert (0xEF, 0x6C, 0x00) in colours  # opened
