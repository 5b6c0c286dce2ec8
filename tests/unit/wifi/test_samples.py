"""The recorded samples stay documented: every file has a provenance row and every row a file."""

from __future__ import annotations

from .samples import SAMPLES_DIR


def _provenance_files() -> set[str]:
    rows = (line for line in (SAMPLES_DIR / "PROVENANCE.md").read_text().splitlines() if line.startswith("| "))
    return {row.split("|")[1].strip() for row in rows} - {"file"}


def test_every_sample_has_a_provenance_row():
    assert {path.name for path in SAMPLES_DIR.glob("*.txt")} <= _provenance_files()


def test_every_provenance_row_names_a_sample():
    assert _provenance_files() <= {path.name for path in SAMPLES_DIR.glob("*.txt")}
