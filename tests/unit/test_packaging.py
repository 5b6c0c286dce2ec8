"""What `pip install edge-agent` puts on a gateway: only what the agent itself imports."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
# Distributions whose import name is not their name with dashes as underscores.
IMPORT_NAMES = {"paho-mqtt": "paho"}


def runtime_dependencies() -> list[str]:
    project = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]
    return [re.match(r"[A-Za-z0-9_.-]+", spec).group(0).lower() for spec in project["dependencies"]]


def imported_by_the_agent(module: str) -> bool:
    pattern = re.compile(rf"^\s*(import|from) {module}\b|import_module\(\"{module}[.\"]", re.MULTILINE)
    return any(pattern.search(path.read_text()) for path in (REPO / "edge_agent").rglob("*.py"))


def test_every_runtime_dependency_is_imported_by_the_agent():
    unused = [name for name in runtime_dependencies()
              if not imported_by_the_agent(IMPORT_NAMES.get(name, name.replace("-", "_")))]
    assert unused == [], f"runtime dependencies the agent never imports (a test-only one belongs in dev): {unused}"
