"""Secrets out of everything telemetry sends: headers, URLs (path and query) and free text.

The one policy for every sink: span attributes made from the URL (`otel.server`), access lines
(`logs.access`), log lines (`logs.formatter`), X-Ray segments (`xray.sdk`) and Rollbar items
(`rollbar.reporter`) all call these functions, so one list decides what counts as a secret.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable, Iterable
from typing import TypeVar
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

REDACTED = "[REDACTED]"

# A header or parameter is secret when its name contains one of these...
_SECRET_NAME = re.compile(
    r"authorization|cookie|token|passw|secret|api[-_]?key|access[-_]?key|private[-_]?key|x-honeycomb-team"
    r"|session|credential|signature|jwt",
    re.I,
)
# ...or when one of its words (split on `-`, `_`, `.`) is one of these short names.
_SECRET_WORDS = frozenset({"key", "pwd", "pass", "auth", "sig", "apikey", "otp", "pin"})
_WORD_SPLIT = re.compile(r"[-_.\s]+")
_NAMES = (
    r"access_?token|refresh_?token|id_?token|token|password|passwd|pwd|secret|client_?secret|api_?key"
    r"|access_?key|private_?key|authorization|cookie|signature|sig|jwt"
)
# Secrets inside free text (and URL paths): `Bearer <token>`, `password=...`, `"token": "..."`,
# JWT-shaped strings, AWS access key ids, and SQLAlchemy's `[parameters: ...]` echo of a statement.
_SECRET_TEXT = [
    (re.compile(r"(?i)\b(bearer|basic)\s+[A-Za-z0-9._~+/=-]+"), r"\1 " + REDACTED),
    (
        re.compile(r"(?i)(?<![A-Za-z0-9])((?:" + _NAMES + r")[\"']?\s*[=:]\s*[\"']?)[^\s&\"',;}]+"),
        r"\1" + REDACTED,
    ),
    (re.compile(r"\beyJ[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*"), REDACTED),
    (re.compile(r"\b(?:AKIA|ASIA|ABIA|ACCA)[A-Z0-9]{16}\b"), REDACTED),
    (re.compile(r"\[parameters: .*?\]", re.S), "[parameters: " + REDACTED + "]"),
]


def is_secret_name(name: str) -> bool:
    """Whether a header, parameter or field of this name holds a secret."""
    if _SECRET_NAME.search(name):
        return True
    return any(word in _SECRET_WORDS for word in _WORD_SPLIT.split(name.lower()))


def scrub_text(text: str) -> str:
    """`text` with bearer tokens, JWTs, AWS key ids, SQL parameters and `password=`-style values redacted."""
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


_Result = TypeVar("_Result")
_CACHED_UP_TO = 512  # characters: a request's URL repeats; a huge one is scrubbed afresh, never kept


def cached_when_short(scrub: Callable[[str], _Result]) -> Callable[[str], _Result]:
    """`scrub` (any pure function of a string) with a bounded cache for short inputs: every request
    scrubs its URL three or four times (span attributes, access line, the call's client span), and a
    service sees the same few URLs, and user agents, over and over."""
    cached = functools.lru_cache(maxsize=1_024)(scrub)

    @functools.wraps(scrub)
    def scrub_maybe_cached(text: str) -> _Result:
        return cached(text) if len(text) <= _CACHED_UP_TO else scrub(text)

    return scrub_maybe_cached


@cached_when_short
def scrub_query(query: str) -> str:
    """A query string with the values of secret parameters (and secret-shaped values) redacted."""
    if not query:
        return ""
    pairs = parse_qsl(query, keep_blank_values=True)
    return urlencode([(k, REDACTED if is_secret_name(k) else scrub_text(v)) for k, v in pairs], safe="[]")


@cached_when_short
def scrub_path(path: str) -> str:
    """A URL path with secret-shaped segments (JWTs, AWS key ids) redacted."""
    return scrub_text(path)


@cached_when_short
def scrub_url(url: str) -> str:
    """A URL (absolute, or a target `path?query`) with user info dropped and path and query scrubbed."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return scrub_text(url)
    netloc = parts.netloc.rpartition("@")[2]
    return urlunsplit((parts.scheme, netloc, scrub_path(parts.path), scrub_query(parts.query), ""))
