"""The activities contract: posts, as stored and as enriched with their author's profile."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from pydantic import AfterValidator, BaseModel, ConfigDict, StringConstraints

from services.users.schemas import Handle, Profile


def _storable(text: str) -> str:
    # PostgreSQL refuses NUL in text (a 502 at the gateway), and a lone surrogate cannot be encoded
    # as UTF-8 on any hop: both are bad input, so a 422 here rather than a failure further on.
    if "\x00" in text:
        raise ValueError("must not contain the NUL character")
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        raise ValueError("must be valid Unicode (no lone surrogates)") from None
    return text


Message = Annotated[
    str,
    StringConstraints(strip_whitespace=True, min_length=1, max_length=280),
    AfterValidator(_storable),
]


class NewActivity(BaseModel):
    """A post to create; `handle` is the author the gateway verified, never the client's say."""

    model_config = ConfigDict(extra="forbid")

    handle: Handle
    message: Message


class Activity(BaseModel):
    """A post with its author's profile (None when users no longer knows the author)."""

    uuid: str
    handle: Handle
    message: str
    created_at: datetime
    author: Profile | None = None
