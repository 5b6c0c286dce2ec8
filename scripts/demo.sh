#!/usr/bin/env bash
# The main job on a fresh machine: a local broker (when mosquitto is installed), the agent on the simulated
# premises running the demo scenario at 10x, and a fleet view narrating what the cloud receives. Ends by itself
# in about 25 s. Creates .venv and installs the project on first use. Options: edge-agent demo --help.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup-venv.sh >/dev/null
exec .venv/bin/edge-agent demo "$@"
