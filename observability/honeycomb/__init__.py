"""Honeycomb as code: the saved queries and the board this project's users need, kept in one file.

`board.json` defines them; `python -m observability.honeycomb.setup` applies it through Honeycomb's
public API (queries, query annotations, flexible boards), idempotently. The services never import
this package: spans reach Honeycomb through OTLP (see `observability.otel`).
"""
