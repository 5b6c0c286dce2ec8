"""The agent process: the daemon's loop and wiring, the pipeline, commands, status, the control socket, sd_notify.

Modules here depend on the rest of edge_agent, never the other way round; `status` and `commands` see the
daemon only through the `RunningAgent` protocol (`parts.py`), so no module here imports `daemon` but the CLI.
"""
