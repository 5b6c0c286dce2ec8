#!/usr/bin/env bash
# The main job: the agent on its built-in simulated premises, printing issues as they open and resolve.
# Extra arguments go to `edge-agent run`, e.g. scripts/demo.sh --speed 10
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup-venv.sh
exec .venv/bin/edge-agent run --simulate --config config/edge-agent.toml "$@"
