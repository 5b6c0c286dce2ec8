"""Files whose kind and size the agent does not control: a FIFO or a device is refused at once, never waited on or
read without end, and a file past its bound is refused naming its size."""

from __future__ import annotations

import os

import pytest

from edge_agent.untrusted_files import UnsafeFileError, open_regular, read_bounded


@pytest.mark.timeout(10)
def test_a_fifo_is_refused_without_waiting_for_a_writer(tmp_path):
    os.mkfifo(tmp_path / "state")
    with pytest.raises(UnsafeFileError, match="not a regular file"):
        open_regular(tmp_path / "state")


@pytest.mark.timeout(10)
def test_a_symlink_to_a_device_that_never_ends_is_refused(tmp_path):
    (tmp_path / "state").symlink_to("/dev/zero")
    with pytest.raises(UnsafeFileError, match="not a regular file"):
        read_bounded(tmp_path / "state", 100)


def test_a_directory_is_refused(tmp_path):
    with pytest.raises(OSError):
        read_bounded(tmp_path, 100)


def test_a_file_past_the_bound_is_refused_naming_both_sizes(tmp_path):
    (tmp_path / "big").write_bytes(b"x" * 101)
    with pytest.raises(UnsafeFileError, match="101 bytes; at most 100"):
        read_bounded(tmp_path / "big", 100)


def test_a_regular_file_within_the_bound_is_read_whole_and_a_symlink_to_one_is_followed(tmp_path):
    (tmp_path / "f").write_bytes(b"x" * 100)
    (tmp_path / "link").symlink_to(tmp_path / "f")
    assert read_bounded(tmp_path / "f", 100) == b"x" * 100
    assert read_bounded(tmp_path / "link", 100) == b"x" * 100


def test_a_missing_file_is_file_not_found(tmp_path):
    with pytest.raises(FileNotFoundError):
        read_bounded(tmp_path / "gone", 100)
