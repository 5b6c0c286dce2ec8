"""The rendered camera scene: repeatable, one label per state, and the simulated premises shows its faults."""

from __future__ import annotations

import numpy as np
import pytest

from edge_agent.clock import ManualClock
from edge_agent.config import FaultConfig, SimulationSection
from edge_agent.sim.camera_scene import VISION_LABELS, SceneState, render_labelled, state_for_label
from edge_agent.sim.premises import SimulatedPremises


def test_the_same_seed_renders_the_same_frames():
    a, labels_a = render_labelled(10, seed=5, size=(64, 48))
    b, labels_b = render_labelled(10, seed=5, size=(64, 48))
    assert np.array_equal(a, b) and np.array_equal(labels_a, labels_b)
    assert a.shape == (10, 48, 64, 3) and a.dtype == np.uint8


def test_labels_are_balanced():
    _, labels = render_labelled(25, seed=1, size=(32, 24))
    assert np.bincount(labels).tolist() == [5] * len(VISION_LABELS)


@pytest.mark.parametrize("label", VISION_LABELS)
def test_each_label_has_a_state_that_shows_it(label):
    assert state_for_label(label, np.random.default_rng(0)).label == label


def test_an_obstruction_hides_whatever_else_is_wrong():
    assert SceneState(led="red", cable_plugged=False, obstructed=True).label == "obstructed"


@pytest.mark.parametrize(("kind", "label"), [("led_red", "led_red"), ("led_off", "led_off"),
                                             ("cable_unplugged", "cable_unplugged"), ("obstructed", "obstructed")])
def test_the_premises_camera_shows_a_fault_only_while_it_is_active(kind, label):
    clock = ManualClock()
    premises = SimulatedPremises(SimulationSection(faults=[FaultConfig(kind=kind, start_s=10, end_s=20)]), clock)
    assert premises.camera_scene().label == "ok"
    clock.advance(15)
    assert premises.camera_scene().label == label


def test_a_camera_down_fault_unplugs_the_simulated_camera():
    clock = ManualClock()
    premises = SimulatedPremises(SimulationSection(faults=[FaultConfig(kind="camera_down", start_s=0, end_s=5)]), clock)
    assert premises.camera_scene() is None
