"""activities' settings: the shared ones, its defaults, and where users lives."""

from __future__ import annotations

from pydantic import field_validator

from services.common.settings import Port, StoreSettings, check_base_url


class ActivitiesSettings(StoreSettings):
    """Environment of the activities service (`PORT` 8001 by default)."""

    port: Port = 8001
    database_url: str = "sqlite+pysqlite:///./data/activities.db"
    users_url: str = "http://127.0.0.1:8002"

    @field_validator("users_url")
    @classmethod
    def _users_url(cls, value: str) -> str:
        return check_base_url(value)
