"""The Cruddur page in a real browser: each click is one trace from the browser through every service.

Debian's chromium (`apt-get install chromium`), driven by Playwright for Python without a browser
download of its own. Skipped, saying why, where chromium or Playwright is missing; `.ci/run` installs
both. The screenshot is kept in the test's tmp folder (its path is printed).
"""

from __future__ import annotations

import secrets
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import pytest

from tests.e2e.harness import Stack, base_env, poll
from tests.standins.otlp import OtlpReceiver, ReceivedSpan
from tests.topology import edges, roots

pytestmark = pytest.mark.e2e

CHROMIUM = Path("/usr/bin/chromium")
BROWSER_SERVICE = "cruddur-web"
HONEYCOMB_KEY = f"hcik_test_{secrets.token_hex(16)}"
AUTH_SECRET = f"e2e-auth-secret-{secrets.token_hex(24)}"
DOWN = {("gateway", "activities"), ("activities", "users")}


class KeyedReceiver(OtlpReceiver):
    """An OTLP backend that, like Honeycomb, takes only requests carrying its key."""

    def authorize(self, method: str, path: str, headers: Mapping[str, str], body: bytes) -> bool:
        return headers.get("x-honeycomb-team") == HONEYCOMB_KEY


@pytest.fixture(scope="module")
def sync_api() -> Any:
    if not CHROMIUM.exists():
        pytest.skip(f"{CHROMIUM} is missing: apt-get install -y chromium chromium-driver (.ci/run does)")
    return pytest.importorskip("playwright.sync_api", reason="Playwright for Python is in the dev extra")


@pytest.fixture(scope="module")
def keyed_otlp() -> Iterator[KeyedReceiver]:
    receiver = KeyedReceiver().start()
    yield receiver
    receiver.stop()


@pytest.fixture(scope="module")
def stack(
    tmp_path_factory: pytest.TempPathFactory, keyed_otlp: KeyedReceiver, sync_api: Any
) -> Iterator[Stack]:
    """The three services exporting to a backend that needs the Honeycomb key, which only they hold.

    It stands in at Honeycomb's own endpoint: the key goes nowhere else (see the hardening tests).
    """
    env = base_env(
        HONEYCOMB_API_ENDPOINT=keyed_otlp.endpoint,
        OTEL_BSP_SCHEDULE_DELAY="100",
        HONEYCOMB_API_KEY=HONEYCOMB_KEY,
        HONEYCOMB_TEAM="cruddur",
        HONEYCOMB_ENVIRONMENT="e2e",
        AUTH_SECRET=AUTH_SECRET,
    )
    running = Stack(tmp_path_factory.mktemp("browser"), env).start()
    yield running
    running.stop()


def browser_trace(otlp: OtlpReceiver, trace_id: str, expected: set[tuple[str, str]]) -> list[ReceivedSpan]:
    """The trace once the browser's spans and every expected edge have arrived."""

    def complete() -> list[ReceivedSpan] | None:
        spans = otlp.trace(trace_id)
        ended = {s.name for s in spans if s.service == BROWSER_SERVICE}
        server = any(s.service == "gateway" and s.kind == "SERVER" for s in spans)
        # Each process exports in its own batches, and the browser ends its fetch span after reading
        # the body: whole once the click, every edge and the browser's fetch span have all arrived.
        whole = server and any(n.startswith("click ") for n in ended) and len(roots(spans)) == 1
        return spans if whole and expected <= edges(spans) else None

    return poll(complete, timeout=20, what=f"browser trace {trace_id} with edges {sorted(expected)}")


def click_and_trace(page: Any, selector: str) -> str:
    """Click, wait until the page shows a new trace id, and return it."""
    before = page.text_content("#trace-id")
    page.click(selector)
    page.wait_for_function(
        "before => { const t = document.getElementById('trace-id').textContent;"
        " return t !== before && /^[0-9a-f]{32}$/.test(t); }",
        arg=before,
        timeout=10_000,
    )
    trace_id: str | None = page.text_content("#trace-id")
    assert trace_id is not None
    return trace_id


def assert_rooted_in_the_browser(spans: list[ReceivedSpan], click: str, down: set[tuple[str, str]]) -> None:
    found = roots(spans)
    assert len(found) == 1, [(s.service, s.name, s.kind, s.parent_span_id) for s in found]
    [root] = found
    assert (root.service, root.name) == (BROWSER_SERVICE, f"click {click}")
    [fetch] = [s for s in spans if s.service == BROWSER_SERVICE and s.kind == "CLIENT"]
    assert fetch.parent_span_id == root.span_id
    [gateway] = [s for s in spans if s.service == "gateway" and s.kind == "SERVER"]
    assert gateway.parent_span_id == fetch.span_id, "the gateway continues the browser's fetch span"
    assert edges(spans) == {(BROWSER_SERVICE, "gateway"), *down}


def test_each_click_is_one_trace_from_the_browser_and_no_secret_reaches_it(
    sync_api: Any, stack: Stack, keyed_otlp: KeyedReceiver, tmp_path: Path
) -> None:
    """Feed, profile and post are each one trace rooted in a browser span; no key or secret is downloaded."""
    downloaded: list[Any] = []
    sent: list[Any] = []
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=str(CHROMIUM),
            headless=True,
            args=["--no-sandbox"],  # root in CI
        )
        try:
            page = browser.new_page(viewport={"width": 1100, "height": 820})
            page.on("response", lambda response: downloaded.append(response))
            page.on("request", lambda request: sent.append(request))
            page.goto(f"{stack.gateway}/")
            page.wait_for_selector("body[data-ready=true]")

            home = click_and_trace(page, "#home")
            assert page.locator("#feed .crud").count() == 5
            screenshot = tmp_path / "cruddur-page.png"  # the feed and its trace: docs/browser.png
            page.screenshot(path=str(screenshot), full_page=True)
            print(f"screenshot: {screenshot}")
            page.fill("#handle", "worf")
            profile = click_and_trace(page, "#profile-button")
            page.click("#get-token")
            page.wait_for_function("document.getElementById('token').value.length > 20")
            page.fill("#message", "Traced from the browser")
            posted = click_and_trace(page, "#post")
            assert "Traced from the browser" in (page.text_content("#feed") or "")

            links = {
                a.get_attribute("data-backend"): a.get_attribute("href")
                for a in page.query_selector_all("#trace-links a")
            }
            assert links["Jaeger"] == f"http://localhost:16686/trace/{posted}"
            assert links["Honeycomb"].endswith(f"/trace?trace_id={posted}")
            # The page exports in batches: keep it open until every click's trace is whole.
            assert_rooted_in_the_browser(browser_trace(keyed_otlp, home, DOWN), "home feed", DOWN)
            profile_down = DOWN | {("gateway", "users")}
            assert_rooted_in_the_browser(
                browser_trace(keyed_otlp, profile, profile_down), "profile", profile_down
            )
            assert_rooted_in_the_browser(browser_trace(keyed_otlp, posted, DOWN), "post", DOWN)
            # Everything the browser received, error answers included (a redirect has no body).
            bodies = [
                (r.url, r.all_headers(), b"" if 300 <= r.status < 400 else r.body()) for r in downloaded
            ]
            uploads = [(r.url, r.all_headers(), r.post_data_buffer or b"") for r in sent]
        finally:
            browser.close()

    assert keyed_otlp.forbidden == 0, "every export, the browser's relayed ones too, carried the key"

    assert {url.rsplit("/", 1)[-1] for url, _, _ in bodies} >= {"", "app.js", "style.css", "browser"}
    for secret in (HONEYCOMB_KEY, AUTH_SECRET):
        for url, headers, body in bodies:
            assert secret.encode() not in body, f"{url} carries a secret"
            assert secret not in repr(headers), f"{url}'s headers carry a secret"
        for url, headers, body in uploads:
            assert secret not in repr(headers) and secret.encode() not in body, (
                f"the page sent a secret to {url}"
            )
    exports = [url for url, _, _ in uploads if url.endswith("/telemetry/v1/traces")]
    assert exports and all(url.startswith(stack.gateway) for url in exports), (
        "the page exports to its gateway"
    )
