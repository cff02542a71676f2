"""The browser's side of telemetry: what the page may know, where its spans go, and which pages may call.

`Telemetry.serve_browser(app, settings, max_body_bytes=...)` adds all of it to the public app: a public
config route (where to export, how large an export may be, links to a trace, never a key), the OTLP
relay for pages whose spans go through the gateway (bounded by the app's own body limit), and CORS for
cross-origin pages (`traceparent` in, `traceresponse` out).
"""

from observability.browser.settings import BrowserSettings

__all__ = ["BrowserSettings"]
