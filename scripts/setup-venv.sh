#!/usr/bin/env bash
# Create (or update) the project's virtualenv in .venv and install edge-agent into it.
# Usage: scripts/setup-venv.sh [EXTRA]   e.g. scripts/setup-venv.sh dev
set -euo pipefail
cd "$(dirname "$0")/.."
extra="${1:-}"
python="${PYTHON:-python3}"
# Say what is missing in one line, before pip or venv fail with their own words (or a traceback).
if ! "$python" -c 'import sys; sys.exit(sys.version_info < (3, 11))' 2>/dev/null; then
    found=$("$python" -V 2>/dev/null) || found="not found"
    echo "edge-agent needs Python 3.11 or later; $python: $found (install python3.11, or name one with PYTHON=...)" >&2
    exit 69
fi
if [ ! -x .venv/bin/python ] && ! "$python" -c 'import ensurepip' 2>/dev/null; then
    echo "$python cannot create a venv: install its venv module (Debian: sudo apt-get install python3-venv)" >&2
    exit 69
fi
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
