"""Feed enrichment: every post gets its author's profile from users in one batched call."""

from __future__ import annotations

from observability import SpanMaker
from services.activities.schemas import Activity
from services.users.client import UsersClient


async def with_authors(posts: list[Activity], users: UsersClient, span: SpanMaker) -> list[Activity]:
    """The posts with `author` filled in, in one call to users whatever the number of authors.

    Its own span shows in the waterfall how many posts and authors the feed carried.

    Args:
        posts: posts as stored.
        users: the users client.
        span: makes the service's own spans.
    """
    with span("activities.enrich_authors") as current:
        handles = sorted({post.handle for post in posts})
        current.set_attribute("app.result_length", len(posts))
        current.set_attribute("app.author_count", len(handles))
        profiles = await users.get_many(handles) if handles else {}
        current.set_attribute("app.authors_missing", len(handles) - len(profiles))
        return [post.model_copy(update={"author": profiles.get(post.handle)}) for post in posts]
