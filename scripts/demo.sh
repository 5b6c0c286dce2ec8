#!/usr/bin/env bash
# The main job on a fresh machine: a local broker (when mosquitto is installed), the agent on the simulated
# premises running the demo scenario at 10x, and a fleet view narrating what the cloud receives. Ends by itself
# in about 25 s. Creates .venv and installs the project on first use. Options: edge-agent demo --help.
# To keep the agent running on the simulated premises instead (a 3-minute fault cycle that repeats), use the
# demo's own config, never the production one:  .venv/bin/edge-agent run --simulate --config config/demo.toml
set -euo pipefail
cd "$(dirname "$0")/.."
# pip is silent here: say why the first run takes a while before the demo's own output starts.
[ -x .venv/bin/edge-agent ] || echo "demo: first run: installing edge-agent into .venv (a minute or two)" >&2
scripts/setup-venv.sh >/dev/null
exec .venv/bin/edge-agent demo "$@"
