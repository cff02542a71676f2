"""The Cruddur page at `/`: static files (HTML, CSS and the bundled script), and a development token.

The script is built from `web/` by `make web` into `web/app.js` here and committed, so neither
`make dev` nor the image needs Node. In development only, `POST /api/dev/token` mints a token for the
page's post form (anyone who can reach it can post as anyone: never outside `ENVIRONMENT=development`).
"""

from __future__ import annotations

from pathlib import Path

from fastapi import APIRouter, FastAPI
from fastapi.responses import FileResponse
from fastapi.staticfiles import StaticFiles
from pydantic import BaseModel, ConfigDict

from services.gateway.auth import mint
from services.gateway.settings import GatewaySettings
from services.users.schemas import Handle

WEB = Path(__file__).resolve().parent / "web"


class TokenRequest(BaseModel):
    """Whom the development token speaks for."""

    model_config = ConfigDict(extra="forbid")

    handle: Handle


class Token(BaseModel):
    """A bearer token for the post form."""

    token: str


def serve_page(app: FastAPI, settings: GatewaySettings) -> None:
    """Serve the page at `/` and its files under `/static/`; the token route in development only."""

    async def page() -> FileResponse:
        return FileResponse(WEB / "index.html", headers={"Cache-Control": "no-cache"})

    app.add_api_route("/", page, methods=["GET"], include_in_schema=False)
    app.mount("/static", StaticFiles(directory=WEB), name="static")
    if settings.is_development:
        dev = APIRouter(prefix="/api/dev", include_in_schema=False)

        @dev.post("/token", response_model=Token)
        async def dev_token(body: TokenRequest) -> Token:
            """A token for `handle`, signed with AUTH_SECRET (development only)."""
            return Token(token=mint(body.handle, settings.secret, ttl=settings.auth_token_ttl))

        app.include_router(dev)
