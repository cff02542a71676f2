"""Links to one trace in each backend that shows it: Jaeger, Honeycomb, the X-Ray console.

Rollbar items carry them (`custom.links`) and the fault scenarios print them, so a person can go from
an error or a response to its waterfall.
"""

from __future__ import annotations

from observability.xray.header import xray_trace_id


def trace_links(
    trace_id: str,
    *,
    honeycomb: tuple[str, str] | None = None,
    aws_region: str | None = None,
    jaeger_url: str | None = None,
) -> dict[str, str]:
    """The trace's URL in each backend that is configured, by backend name.

    Args:
        trace_id: the W3C trace id (32 hex digits).
        honeycomb: `(team, environment)` slugs, for Honeycomb.
        aws_region: the region, for the X-Ray console.
        jaeger_url: the Jaeger UI's base URL (`http://localhost:16686`).
    """
    links: dict[str, str] = {}
    if jaeger_url:
        links["jaeger"] = jaeger_link(jaeger_url, trace_id)
    if honeycomb is not None:
        links["honeycomb"] = honeycomb_link(*honeycomb, trace_id)
    if aws_region:
        links["xray"] = xray_link(aws_region, xray_trace_id(int(trace_id, 16)))
    return links


def jaeger_link(jaeger_url: str, trace_id: str) -> str:
    """The trace in the Jaeger UI at `jaeger_url`."""
    return f"{jaeger_url.rstrip('/')}/trace/{trace_id}"


def honeycomb_link(team: str, environment: str, trace_id: str) -> str:
    """The trace in Honeycomb's UI, for the team and environment slugs."""
    return f"https://ui.honeycomb.io/{team}/environments/{environment}/trace?trace_id={trace_id}"


def xray_link(aws_region: str, xray_id: str) -> str:
    """The trace in the X-Ray console (CloudWatch) of `aws_region`, by its X-Ray trace id."""
    return (
        f"https://{aws_region}.console.aws.amazon.com/cloudwatch/home?region={aws_region}"
        f"#xray:traces/{xray_id}"
    )
