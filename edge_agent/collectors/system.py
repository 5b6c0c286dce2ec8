"""System health of the gateway itself: CPU, memory, load, temperature, disks, uptime, watched processes."""

from __future__ import annotations

import time
from typing import Any, Protocol

import psutil

from edge_agent.model import Sample


class HostReader(Protocol):
    """Where the system collector reads the gateway: this machine (psutil) or the simulated gateway."""

    def host_metrics(self) -> dict[str, Any]: ...

    def disk_metrics(self, path: str) -> dict[str, Any]: ...

    def processes(self, names: list[str]) -> dict[str, dict[str, Any]]: ...


class SystemCollector:
    name = "system"

    def __init__(self, interval_s: float, watched_processes: list[str], disk_paths: list[str],
                 host: HostReader | None = None):
        self.interval_s = interval_s
        self.watched_processes = list(watched_processes)
        self.disk_paths = list(disk_paths)
        self.host = host if host is not None else PsutilHost()

    def collect(self, mono: float, ts: float) -> list[Sample]:
        samples = [Sample("system", "host", self.host.host_metrics(), mono, ts)]
        for path in self.disk_paths:
            samples.append(Sample("system.disk", path, self.host.disk_metrics(path), mono, ts))
        if self.watched_processes:
            running = self.host.processes(self.watched_processes)
            for name in self.watched_processes:
                samples.append(Sample("system.process", name, running[name], mono, ts))
        return samples


class PsutilHost:
    """This machine, through psutil."""

    def __init__(self) -> None:
        # psutil measures CPU between calls; the first call only sets the starting point.
        psutil.cpu_percent(interval=None)

    def host_metrics(self) -> dict[str, Any]:
        memory = psutil.virtual_memory()
        load1, load5, load15 = psutil.getloadavg()
        return {
            "cpu_percent": psutil.cpu_percent(interval=None),
            "memory_percent": memory.percent,
            "memory_available_mb": round(memory.available / 2**20, 1),
            "swap_percent": psutil.swap_memory().percent,
            "load1": round(load1, 2),
            "load5": round(load5, 2),
            "load15": round(load15, 2),
            "uptime_s": round(time.time() - psutil.boot_time(), 1),
            "temperature_c": _hottest_temperature(),
        }

    def disk_metrics(self, path: str) -> dict[str, Any]:
        try:
            usage = psutil.disk_usage(path)
        except OSError as exc:
            return {"disk_percent": None, "free_mb": None, "error": str(exc)}
        return {"disk_percent": usage.percent, "free_mb": round(usage.free / 2**20, 1)}

    def processes(self, names: list[str]) -> dict[str, dict[str, Any]]:
        found: dict[str, dict[str, Any]] = {name: {"running": False, "count": 0, "rss_mb": 0.0} for name in names}
        for proc in psutil.process_iter(["name", "memory_info"]):
            entry = found.get(proc.info["name"])
            if entry is None:
                continue
            entry["running"] = True
            entry["count"] += 1
            if proc.info["memory_info"] is not None:
                entry["rss_mb"] = round(entry["rss_mb"] + proc.info["memory_info"].rss / 2**20, 1)
        return found


def _hottest_temperature() -> float | None:
    """The highest sensor reading, or None where the platform has no sensors (VMs, containers)."""
    read = getattr(psutil, "sensors_temperatures", None)
    if read is None:
        return None
    try:
        readings = [entry.current for entries in read().values() for entry in entries if entry.current]
    except (OSError, RuntimeError):
        return None
    return max(readings) if readings else None
