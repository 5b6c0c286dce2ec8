"""The rule language that maps a watched device's LED states to issues, e.g. `PON is off` -> line_down.

A condition is one line: `SUBJECT is STATE`, joined with `and`, `or`, `not` and parentheses. SUBJECT is an LED's
name (as written in the profile, any case), `led N` (its 1-based index), `any` or `all`; STATE is `on`, `off`,
`blinking`, `steady` or a colour (`red`, `green`, `amber` or `orange`, `blue`, `white`: the LED is lit in that
colour).
Parsed once, when the profile loads, against the profile's LED names, so a typo is an error at load and never
a silent rule. Pure: no I/O.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

COLOURS = ("red", "amber", "yellow", "green", "blue", "white")  # yellow: the same as amber
STATES = ("on", "off", "blinking", "steady", "orange", *COLOURS)  # orange: another word for amber
MAX_CONDITION_CHARS = 500
MAX_TERMS = 24  # `SUBJECT is STATE` atoms in one condition

# The issues a rule may raise: each has guidance for the person on site (edge_agent.guidance).
RULE_ISSUE_TYPES = ("line_down", "device_alarm", "device_powered_off", "device_link_down", "device_state_changed")

_TOKEN = re.compile(r"\s*(\(|\)|[A-Za-z0-9_.\-/]+|\"[^\"]{1,40}\"|\S)")


class RuleError(ValueError):
    """A rule that cannot be parsed or names an LED the profile does not have; the message says which."""


@dataclass(frozen=True)
class LedView:
    """What a rule can see of one LED: its reading over the last burst of frames."""

    index: int
    name: str
    on: bool
    colour: str | None  # when lit
    blinking: bool


@dataclass(frozen=True)
class Atom:
    subject: str  # "any", "all", or "#N" for the LED with index N
    state: str

    def holds(self, leds: Sequence[LedView]) -> bool:
        if self.subject == "any":
            return any(_is(led, self.state) for led in leds)
        if self.subject == "all":
            return bool(leds) and all(_is(led, self.state) for led in leds)
        index = int(self.subject[1:])
        return any(_is(led, self.state) for led in leds if led.index == index)


@dataclass(frozen=True)
class Not:
    operand: Condition

    def holds(self, leds: Sequence[LedView]) -> bool:
        return not self.operand.holds(leds)


@dataclass(frozen=True)
class Both:
    operands: tuple[Condition, ...]

    def holds(self, leds: Sequence[LedView]) -> bool:
        return all(o.holds(leds) for o in self.operands)


@dataclass(frozen=True)
class Either:
    operands: tuple[Condition, ...]

    def holds(self, leds: Sequence[LedView]) -> bool:
        return any(o.holds(leds) for o in self.operands)


Condition = Atom | Not | Both | Either


def _is(led: LedView, state: str) -> bool:
    if state == "on":
        return led.on
    if state == "off":
        return not led.on
    if state == "blinking":
        return led.blinking
    if state == "steady":
        return not led.blinking
    if state in ("amber", "orange"):  # cameras see amber/orange LEDs anywhere between red and yellow
        return led.on and led.colour in ("amber", "yellow")
    return led.on and led.colour == state


def parse_condition(text: str, names: Mapping[str, int]) -> Condition:
    """The condition in `text`; `names` maps each LED name (lower case) to its index. Raises RuleError."""
    if not isinstance(text, str) or not text.strip():
        raise RuleError("a rule's condition must be a non-empty string")
    if len(text) > MAX_CONDITION_CHARS:
        raise RuleError(f"condition longer than {MAX_CONDITION_CHARS} characters")
    tokens = [t for t in _TOKEN.findall(text) if t]
    parser = _Parser(tokens, names, text)
    condition = parser.expression()
    if parser.position != len(tokens):
        raise RuleError(f"{text!r}: unexpected {tokens[parser.position]!r}")
    return condition


class _Parser:
    """Recursive descent over: expr := term ('or' term)*; term := factor ('and' factor)*;
    factor := 'not' factor | '(' expr ')' | SUBJECT 'is' STATE."""

    def __init__(self, tokens: list[str], names: Mapping[str, int], text: str):
        self.tokens, self.names, self.text = tokens, names, text
        self.position = 0
        self.atoms = 0
        self.depth = 0

    def _peek(self) -> str | None:
        return self.tokens[self.position].lower() if self.position < len(self.tokens) else None

    def _take(self) -> str:
        if self.position >= len(self.tokens):
            raise RuleError(f"{self.text!r}: ends too early (expected 'LED is STATE')")
        self.position += 1
        return self.tokens[self.position - 1]

    def expression(self) -> Condition:
        return self._chain("or", self.term, Either)

    def term(self) -> Condition:
        return self._chain("and", self.factor, Both)

    def _chain(self, word: str, operand: Callable[[], Condition],
               combine: Callable[[tuple[Condition, ...]], Condition]) -> Condition:
        operands = [operand()]
        while self._peek() == word:
            self._take()
            operands.append(operand())
        return operands[0] if len(operands) == 1 else combine(tuple(operands))

    def factor(self) -> Condition:
        self.depth += 1
        if self.depth > MAX_TERMS:
            raise RuleError(f"{self.text!r}: nested too deeply")
        try:
            if self._peek() == "not":
                self._take()
                return Not(self.factor())
            if self._peek() == "(":
                self._take()
                inner = self.expression()
                if self._peek() != ")":
                    raise RuleError(f"{self.text!r}: a '(' is not closed")
                self._take()
                return inner
            return self.atom()
        finally:
            self.depth -= 1

    def atom(self) -> Atom:
        self.atoms += 1
        if self.atoms > MAX_TERMS:
            raise RuleError(f"{self.text!r}: more than {MAX_TERMS} 'LED is STATE' terms")
        subject = self._subject()
        verb = self._take()
        if verb.lower() != "is":
            raise RuleError(f"{self.text!r}: expected 'is' after the LED, got {verb!r}")
        state = self._take().lower()
        if state not in STATES:
            raise RuleError(f"{self.text!r}: unknown state {state!r} (one of {', '.join(STATES)})")
        return Atom(subject, state)

    def _subject(self) -> str:
        word = self._take()
        lowered = word.strip('"').lower()
        if lowered in ("any", "all"):
            return lowered
        if lowered == "led":
            number = self._take()
            if not number.isdigit() or int(number) not in self.names.values():
                raise RuleError(f"{self.text!r}: 'led {number}': the profile's LEDs are numbered "
                                f"{sorted(set(self.names.values())) or 'nothing'}")
            return f"#{int(number)}"
        if lowered in self.names:
            return f"#{self.names[lowered]}"
        known = ", ".join(sorted(self.names)) or "none named"
        raise RuleError(f"{self.text!r}: no LED called {word!r} in the profile (named: {known}; or use 'led N')")
