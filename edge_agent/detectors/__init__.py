"""Detectors: samples in, findings out. A detector knows nothing about where samples came from."""

from __future__ import annotations

from typing import Protocol

from edge_agent.model import Finding, Sample


class Detector(Protocol):
    name: str

    def evaluate(self, sample: Sample) -> list[Finding]: ...
