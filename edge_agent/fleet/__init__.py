"""The fleet side: what a fleet manager runs against the broker to watch many gateways."""
