"""The users contract: what its routes accept and answer, and what its client returns."""

from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel, ConfigDict, StringConstraints

Handle = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9_]{1,32}$")]
MAX_BATCH = 100


class Profile(BaseModel):
    """A user's public profile."""

    model_config = ConfigDict(frozen=True)

    handle: Handle
    display_name: str
    bio: str = ""
