"""The project's secrets policy (`observability.redact`) as a transform of the `rollbar` SDK.

The SDK scrubs by its own list of field names (`password`, `authorization`...); this runs after it
over the whole item, so the logs and Rollbar redact by one policy, whatever names it grows to.
"""

from __future__ import annotations

from typing import Any

from rollbar.lib.transform import Transform

from observability.redact import REDACTED, is_secret_name, scrub_text, scrub_url


class RedactionPolicy(Transform):
    """The project's secrets policy over a whole item, after the SDK's own scrub fields.

    A value under a secret-named key (`authorization`, `cookie`, `x-api-token`...) is replaced; a URL
    loses its credentials and the values of its secret parameters; any other string loses bearer
    tokens, JWTs and `password=`-style values (exception messages, code lines, locals).
    """

    priority = 60  # the SDK's run first: shortener 10, scrub fields 20, serializable 30, URL params 50

    def default(self, o: Any, key: tuple[Any, ...] | None = None) -> Any:
        return REDACTED if _secret_key(key) else o

    def transform_unicode(self, o: str, key: tuple[Any, ...] | None = None) -> str:
        last = key[-1] if key else None
        if isinstance(last, str):
            if last in _NO_USER_TEXT:
                return o
            if is_secret_name(last):
                return REDACTED
            if last.lower().endswith("url"):
                return scrub_url(o)
        return scrub_text(o)


# Fields the SDK fills from code, not from input: skipping them saves a third of the policy's CPU.
_NO_USER_TEXT = frozenset(
    {"filename", "method", "class", "uuid", "fingerprint", "level", "language", "framework", "root"}
)


def _secret_key(key: tuple[Any, ...] | None) -> bool:
    last = key[-1] if key else None
    return isinstance(last, str) and is_secret_name(last)
