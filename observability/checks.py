"""Checks every settings class shares, so a bad value stops start-up with the same clear message."""

from __future__ import annotations

from urllib.parse import urlsplit


def check_url(value: str | None) -> str | None:
    """An http(s) URL with a host, without its trailing slash; None or empty stays None.

    Raises:
        ValueError: any other value.
    """
    if value is None or value == "":
        return None
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise ValueError(f"must be an http(s) URL with a host, got {value!r}")
    return value.rstrip("/")
