"""Reporting: every event and sample wrapped in the v1 envelope and handed to the configured sinks."""
