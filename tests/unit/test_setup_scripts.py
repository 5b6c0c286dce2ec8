"""The scripts a new user runs first (demo.sh's venv set-up, install.sh) say in one line when this machine's
Python cannot run edge-agent, before they create anything."""

from __future__ import annotations

import os
import shutil
import stat
import subprocess
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]


def fake_python(directory: Path, version: str, has_venv: bool = True) -> Path:
    """A `python3` that reports `version` and fails the scripts' checks as that version (or one without venv) would."""
    major, minor = (int(part) for part in version.split(".")[:2])
    script = directory / "python3"
    script.write_text(f"""#!/bin/sh
[ "$1" = -V ] && {{ echo "Python {version}"; exit 0; }}
case "$2" in
  *version_info*) [ {minor} -ge 11 ] && [ {major} -ge 3 ] && exit 0; exit 1 ;;
  *ensurepip*) {"exit 0" if has_venv else "exit 1"} ;;
esac
exit 1
""")
    script.chmod(script.stat().st_mode | stat.S_IXUSR)
    return script


@pytest.fixture
def checkout(tmp_path: Path) -> Path:
    """The scripts in a scratch checkout: if a check let the script go on, it would touch nothing real."""
    copy = tmp_path / "checkout"
    shutil.copytree(REPO / "scripts", copy / "scripts")
    shutil.copy(REPO / "pyproject.toml", copy)
    return copy


def test_setup_venv_with_a_python_older_than_3_11_names_the_version_and_stops(checkout: Path, tmp_path: Path):
    python = fake_python(tmp_path, "3.9.2")
    run = subprocess.run([checkout / "scripts/setup-venv.sh"], capture_output=True, text=True, timeout=30,
                         env={**os.environ, "PYTHON": str(python)})
    assert run.returncode == 69
    assert "needs Python 3.11 or later" in run.stderr and "Python 3.9.2" in run.stderr
    assert not (checkout / ".venv").exists()


def test_setup_venv_without_the_venv_module_says_which_package_gives_it(checkout: Path, tmp_path: Path):
    python = fake_python(tmp_path, "3.11.2", has_venv=False)
    run = subprocess.run([checkout / "scripts/setup-venv.sh"], capture_output=True, text=True, timeout=30,
                         env={**os.environ, "PYTHON": str(python)})
    assert run.returncode == 69 and "apt-get install python3-venv" in run.stderr
    assert not (checkout / ".venv").exists()


@pytest.mark.skipif(os.geteuid() != 0, reason="install.sh runs as root")
def test_install_with_a_python_older_than_3_11_stops_before_creating_anything(checkout: Path, tmp_path: Path):
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    fake_python(bin_dir, "3.9.2")
    root = tmp_path / "root"
    (root / "etc").mkdir(parents=True)
    for table in ("passwd", "group"):
        (root / "etc" / table).write_text("root:x:0:0::/root:/bin/sh\n" if table == "passwd" else "root:x:0:\n")
    run = subprocess.run(["bash", checkout / "scripts/install.sh", "--root", root], capture_output=True, text=True,
                         timeout=30, env={**os.environ, "PATH": f"{bin_dir}:{os.environ['PATH']}"})
    assert run.returncode == 69 and "needs Python 3.11 or later" in run.stderr and "Python 3.9.2" in run.stderr
    assert sorted(p.name for p in root.iterdir()) == ["etc"]
    assert "edge-agent" not in (root / "etc" / "passwd").read_text()
