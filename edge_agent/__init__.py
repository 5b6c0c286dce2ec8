"""edge-agent: preemptive-care agent for customer-premises gateways."""

__version__ = "0.1.0"
