#!/usr/bin/env bash
# Create (or update) the project's virtualenv in .venv and install edge-agent into it.
# Usage: scripts/setup-venv.sh [EXTRA]   e.g. scripts/setup-venv.sh dev
set -euo pipefail
cd "$(dirname "$0")/.."
extra="${1:-}"
python="${PYTHON:-python3}"
if [ ! -x .venv/bin/python ]; then
    "$python" -m venv .venv
fi
stamp=".venv/.installed-${extra:-base}"
# Reinstall only when the dependency list changed: keeps the demo and test commands fast on a second run.
if [ ! -f "$stamp" ] || [ pyproject.toml -nt "$stamp" ]; then
    .venv/bin/python -m pip install --quiet --upgrade pip 2>&1 | grep -v "^WARNING: Location" || true
    spec="."
    [ -n "$extra" ] && spec=".[$extra]"
    .venv/bin/python -m pip install --quiet -e "$spec" 2>&1 | grep -v "^WARNING: Location" || true
    .venv/bin/python -c "import edge_agent" # fail here, not later, if the install did not work
    touch "$stamp"
fi
