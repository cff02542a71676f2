"""The activities contract: posts, as stored and as enriched with their author's profile."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from pydantic import BaseModel, ConfigDict, StringConstraints

from services.users.schemas import Handle, Profile

Message = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=280)]


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
