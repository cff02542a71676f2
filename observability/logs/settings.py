"""The logs' settings: the level of stdout's JSON lines, and CloudWatch Logs when a group is named.

Reads `LOG_LEVEL`, `LOG_FORMAT`, `LOG_FLUSH_INTERVAL`, `ACCESS_LOG`, `CLOUDWATCH_LOG_GROUP`,
`CLOUDWATCH_SEND_INTERVAL`, `CLOUDWATCH_QUEUE_SIZE`, `CLOUDWATCH_RETRY_MAX`, `CLOUDWATCH_RETENTION_DAYS`,
`AWS_REGION`, `AWS_ENDPOINT_URL` and `AWS_ENDPOINT_URL_CLOUDWATCH_LOGS` (boto3 reads the AWS
credentials itself).
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from observability.checks import check_url

# Which requests get an access line: every one, those of a sampled trace and every failure, only
# failures (400 and above), or none (`observability.logs.access`).
AccessLog = Literal["all", "sampled", "failures", "off"]
# The only values CloudWatch Logs' PutRetentionPolicy accepts (its API reference, `retentionInDays`).
RETENTION_DAYS = frozenset(
    (1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653)
)


class LogsSettings(BaseSettings):
    """JSON lines on stdout always; CloudWatch Logs when `CLOUDWATCH_LOG_GROUP` is set."""

    model_config = SettingsConfigDict(extra="ignore", case_sensitive=False, env_ignore_empty=True)

    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"
    # auto: human-readable text when stdout is a terminal, JSON lines otherwise (CloudWatch is always JSON).
    log_format: Literal["auto", "json", "text"] = "auto"
    access_log: AccessLog = "all"
    # JSON lines through a buffer, on stdout within this many seconds (WARNING and above at once); 0:
    # each line written at once. Fewer writes, each a hand-over of the GIL (docs/performance.md).
    log_flush_interval: float = Field(default=0.0, ge=0, le=5, description="seconds")
    cloudwatch_log_group: str | None = None
    cloudwatch_send_interval: float = Field(default=5.0, gt=0, description="seconds between batches")
    cloudwatch_queue_size: int = Field(default=10_000, gt=0, description="lines buffered at most")
    cloudwatch_retry_max: float = Field(default=30.0, gt=0, description="seconds, longest retry backoff")
    cloudwatch_retention_days: int = Field(default=3, description="days the log group keeps events")
    aws_region: str | None = None
    aws_endpoint_url: str | None = None
    aws_endpoint_url_cloudwatch_logs: str | None = None

    @field_validator("aws_endpoint_url", "aws_endpoint_url_cloudwatch_logs")
    @classmethod
    def _logs_urls(cls, value: str | None) -> str | None:
        return check_url(value)

    @field_validator("cloudwatch_retention_days")
    @classmethod
    def _retention(cls, value: int) -> int:
        if value not in RETENTION_DAYS:
            allowed = ", ".join(map(str, sorted(RETENTION_DAYS)))
            raise ValueError(f"must be one of CloudWatch's retention periods: {allowed}")
        return value

    @model_validator(mode="after")
    def _cloudwatch_region(self) -> LogsSettings:
        if self.cloudwatch_log_group and not self.aws_region:
            raise ValueError("AWS_REGION must be set when CLOUDWATCH_LOG_GROUP is set")
        return self

    def cloudwatch_endpoint(self) -> str | None:
        """The CloudWatch Logs endpoint: the service-specific variable first, then `AWS_ENDPOINT_URL`."""
        return self.aws_endpoint_url_cloudwatch_logs or self.aws_endpoint_url
