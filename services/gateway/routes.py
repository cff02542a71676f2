"""gateway's handlers: the public API, fanned out over the typed clients."""

from __future__ import annotations

import asyncio
from typing import Annotated

from fastapi import APIRouter, Path

from services.activities.client import ActivitiesClient
from services.common.resources import from_state
from services.common.validation import StrictJSONRoute
from services.gateway.auth import CurrentUserDep
from services.gateway.schemas import Activity, CreateActivity, ProfilePage
from services.users.client import UsersClient
from services.users.schemas import Handle

router = APIRouter(prefix="/api", route_class=StrictJSONRoute)


ActivitiesDep = Annotated[ActivitiesClient, from_state("activities")]
UsersDep = Annotated[UsersClient, from_state("users")]


@router.get("/activities/home", response_model=list[Activity])
async def home(activities: ActivitiesDep) -> list[Activity]:
    """Home feed: recent posts with their authors."""
    return await activities.home()


@router.get("/activities/@{handle}", response_model=ProfilePage)
async def profile_page(
    handle: Annotated[Handle, Path()], users: UsersDep, activities: ActivitiesDep
) -> ProfilePage:
    """A user's profile and posts, fetched from users and activities concurrently."""
    profile_call = asyncio.ensure_future(users.get(handle))
    posts_call = asyncio.ensure_future(activities.by_handle(handle))
    try:
        profile, posts = await asyncio.gather(profile_call, posts_call)
    except BaseException:
        # One failed: the other's answer is no longer wanted. gather leaves it running, so stop it.
        profile_call.cancel()
        posts_call.cancel()
        raise
    return ProfilePage(profile=profile, activities=posts)


@router.post("/activities", response_model=Activity, status_code=201)
async def create(body: CreateActivity, user: CurrentUserDep, activities: ActivitiesDep) -> Activity:
    """Create a post as the authenticated user."""
    return await activities.create(user, body.message)
