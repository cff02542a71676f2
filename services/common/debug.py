"""The deliberate error of the demo ("trigger an error and observe it in Rollbar"); never in production."""

from __future__ import annotations

from fastapi import APIRouter


class DeliberateError(RuntimeError):
    """Raised on purpose by `GET /debug/error`, to see one error travel to Rollbar and the logs."""


def debug_router(service: str) -> APIRouter:
    """`GET /debug/error`, which raises in `service`; include it only outside production.

    Args:
        service: the name the error message carries.
    """
    router = APIRouter(include_in_schema=False)

    @router.get("/debug/error")
    async def debug_error() -> None:
        """Raise a deliberate unhandled error (a 500)."""
        raise DeliberateError(f"deliberate error in {service} (GET /debug/error)")

    return router
