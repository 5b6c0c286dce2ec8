"""The commands and files the README and the docs tell a new user about exist: every `edge-agent …` command shown
in code (a code span or an indented block) names real subcommands and options, and every path in the checkout
they name is there."""

from __future__ import annotations

import argparse
import re
from pathlib import Path

import pytest

from edge_agent.cli import _parser

REPO = Path(__file__).resolve().parents[2]
DOCS = [REPO / "README.md", REPO / "systemd" / "README.md", REPO / "models" / "README.md",
        *sorted((REPO / "docs").glob("*.md"))]
# Paths in the checkout the docs point a user to (a glob such as *.toml stands for at least one file).
CHECKOUT_PATH = re.compile(r"(?<![\w/.-])((?:config|scripts|docs|systemd|models|tests/data|edge_agent)/[\w./*-]*\w)")


def code_in(text: str) -> list[str]:
    """The code a reader would copy: `spans`, and the lines of indented and fenced blocks."""
    fenced = [line.strip() for block in re.findall(r"(?ms)^```[^\n]*\n(.*?)^```", text) for line in block.splitlines()]
    text = re.sub(r"(?ms)^```.*?^```", "", text)
    spans = [" ".join(span.split()) for span in re.findall(r"`([^`]+)`", text)]  # a span may wrap a line
    blocks = [line.strip() for line in text.splitlines() if line.startswith("    ") and line.strip()]
    return spans + blocks + [line for line in fenced if line]


def subcommands(parser: argparse.ArgumentParser) -> dict[str, argparse.ArgumentParser]:
    found = [a for a in parser._actions if isinstance(a, argparse._SubParsersAction)]
    return dict(found[0].choices) if found else {}


def commands_shown(code: str) -> list[tuple[list[str], list[str], list[str]]]:
    """(the subcommand path, its --options, all its words) for each `edge-agent` invocation in one piece of code."""
    shown = []
    # A command, not the unit, the user or a directory of that name: at the start, after sudo, && or a venv's bin/.
    for match in re.finditer(r"(?:^|\bsudo +|&& +|bin/)edge-agent((?: +[^\s|;&#`]+)*)", code):
        words = match.group(1).split()
        if words and not re.fullmatch(r"[a-z][a-z-]*|-.*", words[0]):
            continue  # not a command line (the user in a sudoers line)
        path = []
        parser = _parser()
        for word in words:
            if word not in subcommands(parser):
                break
            path.append(word)
            parser = subcommands(parser)[word]
        options = [w.split("=")[0] for w in words if re.fullmatch(r"--[a-z][a-z0-9-]*(=.*)?", w)]
        shown.append((path, options, words))
    return shown


def invocations() -> list[tuple[str, list[str], list[str], list[str]]]:
    return [(doc.relative_to(REPO).as_posix(), path, options, words)
            for doc in DOCS for code in code_in(doc.read_text()) for path, options, words in commands_shown(code)]


@pytest.mark.parametrize("doc,path,options,words", invocations(),
                         ids=lambda v: " ".join(v) if isinstance(v, list) else v)
def test_a_command_shown_in_the_docs_exists_with_its_options(doc, path, options, words):
    parser = _parser()
    for word in path:
        parser = subcommands(parser)[word]
    if words and not path and not words[0].startswith("-"):
        pytest.fail(f"{doc}: `edge-agent {' '.join(words)}`: {words[0]!r} is not a command")
    if not words:
        return  # the program named alone
    if "--help" not in options:
        assert not subcommands(parser), f"{doc}: `edge-agent {' '.join(words)}` stops at a command group"
    accepted = {flag for action in parser._actions for flag in action.option_strings}
    unknown = [option for option in options if option not in accepted]
    assert unknown == [], f"{doc}: `edge-agent {' '.join(words)}`: no such option {unknown}"


def test_every_checkout_path_the_docs_name_exists():
    missing = []
    for doc in DOCS:
        for code in code_in(doc.read_text()):
            for name in CHECKOUT_PATH.findall(code):
                if not list(REPO.glob(name.rstrip("/."))):
                    missing.append(f"{doc.relative_to(REPO)}: {name}")
    assert missing == []
