"""users' settings: the shared ones with this service's defaults."""

from __future__ import annotations

from services.common.settings import StoreSettings


class UsersSettings(StoreSettings):
    """Environment of the users service (`PORT` 8002 by default)."""

    port: int = 8002
    database_url: str = "sqlite+aiosqlite:///./data/users.db"
