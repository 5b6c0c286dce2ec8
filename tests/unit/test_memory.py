"""Returning freed heap to the kernel (glibc's malloc_trim)."""

import os

from edge_agent.memory import release_free_memory


def rss_kib() -> int:
    for line in open(f"/proc/{os.getpid()}/status"):
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise AssertionError("no VmRSS")


def test_freed_small_allocations_go_back_to_the_kernel():
    # ~36 MiB in chunks too big for Python's own allocator and too small for mmap: glibc's heap, which keeps
    # freed pages until trimmed (without the trim, measured here: ~3 MiB of the 36 come back).
    blocks = [bytearray(600) for _ in range(60_000)]
    for block in blocks:
        block[0] = 1
    grown = rss_kib()
    del blocks
    release_free_memory()
    assert rss_kib() < grown - 20_000
