"""What of an action's command line and output may leave the device: short, and with secrets blanked (pure).

Audit records go to the cloud (`event/action`) and to actions.jsonl; a program may print its configuration, a
URL with a password in it, or a token. Anything that looks like one is replaced before it is kept.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping

OUTPUT_LIMIT = 200  # characters of output kept per command: enough for the error line, not for a dump
REDACTED = "<redacted>"
MIN_SECRET_LEN = 4  # shorter values would blank ordinary words

# key=value, key: value, --key value, "key": "value" for keys that name a secret. Every pattern is linear in the
# output: a key starts only where a word starts, is checked for a secret's name by a look-ahead within that word,
# and is taken whole, never given back. A key that could start anywhere in a word ([\w.-]*password[\w.-]*) was
# retried from each character: 16 KB of one word in an action's output held the GIL for 24 s (1 MiB may come).
_SECRET_NAME = r"(?:pass(?:word|wd|phrase)?|secret|token|api[_-]?key|private[_-]?key|credential|auth)"
_SECRET_KEY = rf"(?<![\w.-])(?=[\w.-]*?{_SECRET_NAME})[\w.-]++"
_ASSIGNMENT = re.compile(
    rf"""(?ix)
    (?P<key>["']?{_SECRET_KEY}["']?)
    (?P<sep>\s*+[=:]\s*+)
    (?P<value>"[^"]*+"|'[^']*+'|[^\s,;&"']++)
    """
)
_OPTION = re.compile(rf"(?i)(?<![\w.-])(?P<key>--?+(?=[\w.-]*?{_SECRET_NAME})[\w.-]*+)(?P<sep>=|\s++)(?P<value>\S++)")
_HTTP_AUTH = re.compile(r"(?i)\b(?P<key>bearer|basic)(?P<sep>\s++)(?P<value>[A-Za-z0-9._~+/=-]{6,}+)")
_URL_USERINFO = re.compile(r"(?i)(?P<scheme>(?<![a-z0-9+.-])[a-z][a-z0-9+.-]*+://)[^/\s:@]++:[^/\s@]++@")
SECRET_ENV_NAME = re.compile(r"(?i)(PASSWORD|PASSWD|SECRET|TOKEN|KEY|CREDENTIAL)")


def redact(text: str, secrets: Iterable[str] = ()) -> str:
    """`text` with known secret values and anything that looks like a credential replaced."""
    for secret in sorted({s for s in secrets if len(s) >= MIN_SECRET_LEN}, key=len, reverse=True):
        text = text.replace(secret, REDACTED)
    text = _URL_USERINFO.sub(lambda m: f"{m['scheme']}{REDACTED}@", text)
    for pattern in (_OPTION, _HTTP_AUTH, _ASSIGNMENT):  # the scheme first: "Authorization: Bearer x"
        text = pattern.sub(lambda m: f"{m['key']}{m['sep']}{REDACTED}", text)
    return text


def short_output(output: str, secrets: Iterable[str] = (), limit: int = OUTPUT_LIMIT) -> str:
    """The redacted tail of a command's output (the end holds the error). Redacted first, so a cut cannot leave
    half a secret."""
    text = redact(output.strip(), secrets)
    return text if len(text) <= limit else "…" + text[-(limit - 1):]


def redact_argv(argv: Iterable[str], secrets: Iterable[str] = ()) -> str:
    """A command line for the audit record: one string, secrets blanked."""
    return redact(" ".join(argv), secrets)


def secret_values(environ: Mapping[str, str]) -> list[str]:
    """The values of the agent's own secret variables (EDGE_AGENT_*PASSWORD*, ...): blanked wherever they appear."""
    return [value for name, value in environ.items()
            if name.upper().startswith("EDGE_AGENT_") and SECRET_ENV_NAME.search(name) and value]
