"""The public API's contract: what clients send to the gateway and what they get back."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict

from services.activities.schemas import Activity, Message
from services.users.schemas import Profile


class CreateActivity(BaseModel):
    """A new post; its author is the token's user, so the body has no author field."""

    model_config = ConfigDict(extra="forbid")

    message: Message


class ProfilePage(BaseModel):
    """One user's profile and recent posts."""

    profile: Profile
    activities: list[Activity]


__all__ = ["Activity", "CreateActivity", "Profile", "ProfilePage"]
