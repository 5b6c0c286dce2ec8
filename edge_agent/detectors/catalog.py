"""The detectors the agent runs, built from the [detectors] config."""

from __future__ import annotations

from edge_agent.config import DetectorsSection
from edge_agent.detectors import Detector
from edge_agent.detectors.connectivity import ConnectivityRules, GatewayMacWatch
from edge_agent.detectors.gateway_quality import GatewayQuality
from edge_agent.detectors.reporting_path import ReportingPathRules
from edge_agent.detectors.rules import InterfaceRules, SystemRules, WifiRules
from edge_agent.detectors.storage import StorageRules


def default_detectors(config: DetectorsSection) -> list[Detector]:
    return [
        SystemRules(config.system),
        InterfaceRules(config.interfaces),
        WifiRules(config.wifi),
        ConnectivityRules(config.connectivity),
        GatewayQuality(config.connectivity),
        GatewayMacWatch(config.connectivity),
        StorageRules(),
        ReportingPathRules(),
    ]
