"""Plain-text building blocks of the technician CLI: tables, durations, clock times."""

from __future__ import annotations

import re

import pytest

from edge_agent.output import clock_time, duration, table


def test_table_aligns_each_column_to_its_widest_cell():
    lines = table(["NAME", "RUNS"], [["connectivity", 3], ["wifi", 12]]).splitlines()
    assert [line.index(runs) for line, runs in zip(lines, ["RUNS", "3", "12"], strict=True)] == [14, 14, 14]


def test_table_shows_none_as_a_dash():
    assert table(["A", "B"], [["x", None]]).splitlines()[1].split() == ["x", "-"]


def test_table_shows_floats_without_trailing_zeros():
    assert table(["A", "B"], [[2.0, 0.25]]).splitlines()[1].split() == ["2", "0.25"]


def test_table_lines_have_no_trailing_spaces():
    text = table(["SHORT", "LAST"], [["a-much-longer-cell", ""], ["b", "x"]])
    assert all(line == line.rstrip() for line in text.splitlines())


@pytest.mark.parametrize(
    "seconds, shown",
    [(None, "-"), (0, "0s"), (12.7, "12s"), (250, "4m10s"), (7500, "2h05m"), (3 * 86_400 + 4 * 3600 + 59, "3d4h")],
)
def test_duration_shows_the_two_largest_units(seconds, shown):
    assert duration(seconds) == shown


def test_clock_time_of_nothing_is_a_dash():
    assert clock_time(None) == "-"


def test_clock_time_is_date_and_time_to_the_second():
    assert re.fullmatch(r"\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}", clock_time(1_700_000_000.0))
