"""users' HTTP handlers: thin, the store does the work."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, HTTPException, Path, Query

from services.common.resources import from_state
from services.common.validation import StrictJSONRoute
from services.users.schemas import MAX_BATCH, Handle, Profile
from services.users.store import UserStore

router = APIRouter(route_class=StrictJSONRoute)


StoreDep = Annotated[UserStore, from_state("store")]


@router.get("/users/{handle}", response_model=Profile)
async def get_user(handle: Annotated[Handle, Path()], store: StoreDep) -> Profile:
    """One profile by handle."""
    profile = await store.get(handle)
    if profile is None:
        raise HTTPException(status_code=404, detail=f"unknown handle: {handle}")
    return profile


@router.get("/users", response_model=list[Profile])
async def get_users(
    handle: Annotated[list[Handle], Query(min_length=1, max_length=MAX_BATCH)], store: StoreDep
) -> list[Profile]:
    """Profiles of several handles in one call; unknown handles are left out."""
    return await store.get_many(handle)
