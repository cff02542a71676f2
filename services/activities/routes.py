"""activities' HTTP handlers: read or write the store, then enrich with authors."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from observability import SpanMaker
from services.activities import enrich
from services.activities.schemas import Activity, NewActivity
from services.activities.store import ActivityStore
from services.common.resources import from_state
from services.users.client import UsersClient
from services.users.schemas import Handle

router = APIRouter()


StoreDep = Annotated[ActivityStore, from_state("store")]
UsersDep = Annotated[UsersClient, from_state("users")]
SpanDep = Annotated[SpanMaker, from_state("span")]


@router.get("/activities/home", response_model=list[Activity])
async def home(store: StoreDep, users: UsersDep, span: SpanDep) -> list[Activity]:
    """The home feed: recent posts with their authors."""
    return await enrich.with_authors(await store.recent(), users, span)


@router.get("/activities", response_model=list[Activity])
async def by_handle(
    handle: Annotated[Handle, Query()], store: StoreDep, users: UsersDep, span: SpanDep
) -> list[Activity]:
    """One user's recent posts with their author."""
    return await enrich.with_authors(await store.recent(handle=handle), users, span)


@router.post("/activities", response_model=Activity, status_code=201)
async def create(body: NewActivity, store: StoreDep, users: UsersDep) -> Activity:
    """Create a post for a known author (404 when users does not know the handle)."""
    author = await users.get(body.handle)
    post = await store.create(body.handle, body.message)
    return post.model_copy(update={"author": author})
