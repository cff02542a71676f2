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
        links["jaeger"] = f"{jaeger_url.rstrip('/')}/trace/{trace_id}"
    if honeycomb is not None:
        team, env = honeycomb
        links["honeycomb"] = f"https://ui.honeycomb.io/{team}/environments/{env}/trace?trace_id={trace_id}"
    if aws_region:
        xray_id = xray_trace_id(int(trace_id, 16))
        links["xray"] = (
            f"https://{aws_region}.console.aws.amazon.com/cloudwatch/home?region={aws_region}"
            f"#xray:traces/{xray_id}"
        )
    return links
