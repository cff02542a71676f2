"""Under compose the page exports from the browser to the collector, which allows the page's origin only."""

from __future__ import annotations

from urllib.parse import urlsplit

from tests.collector_config import collector_config
from tests.compose import compose, service_env


def published(spec: dict[str, object], name: str) -> dict[int, str]:
    """Container port -> the host address compose publishes it on (`127.0.0.1:8000:8000`)."""
    services = spec["services"]
    assert isinstance(services, dict)
    ports = {}
    for entry in services[name].get("ports", []):
        host, host_port, container_port = str(entry).split(":")
        assert host_port == container_port.split("/")[0], "the host sees each port under its own number"
        ports[int(host_port)] = host
    return ports


def test_collector_allows_exactly_the_pages_origin() -> None:
    """The collector's OTLP/HTTP receiver grants CORS to the gateway's published origin, and to no other."""
    spec = compose({"HONEYCOMB_API_KEY": "hcaik_test"})
    config, _ = collector_config(spec["services"]["otel-collector"])
    cors = config["receivers"]["otlp"]["protocols"]["http"]["cors"]
    [gateway_port] = published(spec, "gateway")
    assert sorted(cors["allowed_origins"]) == [
        f"http://127.0.0.1:{gateway_port}",
        f"http://localhost:{gateway_port}",
    ]
    assert set(cors) == {"allowed_origins"}, "no other CORS grant (headers, credentials) is needed"


def test_page_exports_to_the_collectors_published_port() -> None:
    """The gateway tells the page to export to the collector's receiver as the host publishes it."""
    spec = compose()
    endpoint = urlsplit(service_env(spec, "gateway")["BROWSER_TRACES_ENDPOINT"])
    assert (endpoint.scheme, endpoint.hostname, endpoint.path) == ("http", "localhost", "/v1/traces")
    assert published(spec, "otel-collector")[endpoint.port or 80] == "127.0.0.1"
    assert published(spec, "jaeger")[16686] == "127.0.0.1"
    assert service_env(spec, "gateway")["JAEGER_UI_URL"] == "http://localhost:16686"
