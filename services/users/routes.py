"""users' HTTP handlers: thin, the store does the work."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException, Path, Query, Request

from services.users.schemas import MAX_BATCH, Handle, Profile
from services.users.store import UserStore

router = APIRouter()


# Dependencies are `async def`: FastAPI runs a plain `def` one in a worker thread, on every request.
async def _store(request: Request) -> UserStore:
    store: UserStore = request.app.state.store
    return store


StoreDep = Annotated[UserStore, Depends(_store)]


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
