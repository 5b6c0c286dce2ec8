"""Shared fixtures: short private temp dirs (AF_UNIX paths are limited to 108 bytes)."""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path

import pytest


@pytest.fixture
def short_tmp() -> Path:
    """A private directory under /tmp with a short path, removed afterwards."""
    path = Path(tempfile.mkdtemp(prefix="ea-", dir="/tmp"))
    try:
        yield path
    finally:
        shutil.rmtree(path, ignore_errors=True)


def running_as_root() -> bool:
    return os.geteuid() == 0
