"""The LED rule language: what a condition means, and a clear error for every malformed one."""

from __future__ import annotations

import pytest

from edge_agent.camera.led_rules import LedView, RuleError, parse_condition

NAMES = {"power": 1, "pon": 2, "los": 3, "lan": 4}


def leds(power=True, pon=True, los=False, lan=True, pon_blinking=False, colours=None):
    colours = colours or {}
    states = {"power": power, "pon": pon, "los": los, "lan": lan}
    return [LedView(i, name, on, colours.get(name, "green") if on else None, name == "pon" and pon_blinking)
            for name, i in NAMES.items() for on in [states[name]]]


@pytest.mark.parametrize("condition, state, holds", [
    ("PON is off", leds(), False),
    ("PON is off", leds(pon=False), True),
    ("led 2 is off", leds(pon=False), True),
    ("los is on or pon is off", leds(los=True), True),
    ("los is on or pon is off", leds(), False),
    ("power is on and not (lan is on)", leds(lan=False), True),
    ("power is on and not (lan is on)", leds(), False),
    ("pon is blinking", leds(pon_blinking=True), True),
    ("pon is steady", leds(pon_blinking=True), False),
    ("any is red", leds(los=True, colours={"los": "red"}), True),
    ("any is red", leds(), False),
    ("all is off", leds(power=False, pon=False, lan=False), True),
    ("all is off", leds(power=False, pon=False), False),
    ("power is amber", leds(colours={"power": "amber"}), True),
    ("power is yellow", leds(colours={"power": "amber"}), False),
    ("power is amber", leds(colours={"power": "yellow"}), True),  # cameras do not separate them
    ("power is orange", leds(colours={"power": "amber"}), True),
    ("los is red", leds(los=False), False),  # an unlit LED has no colour
])
def test_conditions_mean_what_they_say(condition, state, holds):
    assert parse_condition(condition, NAMES).holds(state) is holds


def test_an_led_not_read_yet_satisfies_no_state():
    assert not parse_condition("pon is off", NAMES).holds([])
    assert not parse_condition("pon is on", NAMES).holds([])


@pytest.mark.parametrize("condition, message", [
    ("", "non-empty"),
    ("modem is off", "no LED called 'modem'"),
    ("led 9 is off", "numbered [1, 2, 3, 4]"),
    ("pon is purple", "unknown state 'purple'"),
    ("pon off", "expected 'is'"),
    ("pon is", "ends too early"),
    ("(pon is off", "not closed"),
    ("pon is off lan", "unexpected 'lan'"),
    ("pon is off " + "or pon is off " * 30, "more than 24"),
    ("x" * 501, "longer than 500"),
    ("not " * 40 + "pon is off", "nested too deeply"),
])
def test_a_malformed_condition_is_refused_naming_the_problem(condition, message):
    with pytest.raises(RuleError) as error:
        parse_condition(condition, NAMES)
    assert message in str(error.value)


def test_a_condition_that_is_not_text_is_refused():
    with pytest.raises(RuleError, match="non-empty string"):
        parse_condition(42, NAMES)  # type: ignore[arg-type]
