"""The recorded real outputs in tests/data/wifi/ (where each came from: PROVENANCE.md there)."""

from __future__ import annotations

from pathlib import Path

SAMPLES_DIR = Path(__file__).resolve().parents[2] / "data" / "wifi"


def sample(name: str) -> str:
    return (SAMPLES_DIR / name).read_text()
