"""Secrets out of everything telemetry sends: headers, query strings and free text.

Used by the logs (`observability.logs`) and by Rollbar (`observability.rollbar`) alike, so one list
decides what counts as a secret.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from urllib.parse import parse_qsl, urlencode

REDACTED = "[REDACTED]"

# A header or parameter is secret when its name contains one of these.
_SECRET_NAME = re.compile(
    r"authorization|cookie|token|passw|secret|api[-_]?key|x-honeycomb-team|session|credential", re.I
)
# Secrets inside free text: `Bearer <token>`, `password=...`, `"token": "..."`, JWT-shaped strings.
_SECRET_TEXT = [
    (re.compile(r"(?i)\b(bearer|basic)\s+[A-Za-z0-9._~+/=-]+"), r"\1 " + REDACTED),
    (
        re.compile(
            r"(?i)((?:access_?token|refresh_?token|token|password|passwd|secret|api_?key|authorization|cookie)"
            r"[\"']?\s*[=:]\s*[\"']?)[^\s&\"',;}]+"
        ),
        r"\1" + REDACTED,
    ),
    (re.compile(r"\beyJ[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+"), REDACTED),
]


def is_secret_name(name: str) -> bool:
    """Whether a header, parameter or field of this name holds a secret."""
    return bool(_SECRET_NAME.search(name))


def scrub_text(text: str) -> str:
    """`text` with bearer tokens, JWTs and `password=`/`token:`-style values replaced by [REDACTED]."""
    for pattern, replacement in _SECRET_TEXT:
        text = pattern.sub(replacement, text)
    return text


def scrub_headers(headers: Iterable[tuple[bytes, bytes]]) -> dict[str, str]:
    """ASGI headers as a dict, secret ones (`Authorization`, `Cookie`, tokens...) redacted.

    Args:
        headers: the raw `(name, value)` pairs of an ASGI scope.
    """
    result: dict[str, str] = {}
    for raw_name, raw_value in headers:
        name = raw_name.decode("latin-1").lower()
        value = raw_value.decode("latin-1")
        result[name] = REDACTED if is_secret_name(name) else scrub_text(value)
    return result


def scrub_query(query: str) -> str:
    """A query string with the values of secret parameters redacted."""
    if not query:
        return ""
    pairs = parse_qsl(query, keep_blank_values=True)
    return urlencode([(k, REDACTED if is_secret_name(k) else scrub_text(v)) for k, v in pairs], safe="[]")
