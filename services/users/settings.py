"""users' settings: the shared ones with this service's defaults."""

from __future__ import annotations

from services.common.settings import Port, StoreSettings


class UsersSettings(StoreSettings):
    """Environment of the users service (`PORT` 8002 by default)."""

    port: Port = 8002
    database_url: str = "sqlite+pysqlite:///./data/users.db"
