"""Apply `board.json` to a Honeycomb environment, idempotently: `--dry-run` only prints the plan.

    python -m observability.honeycomb.setup [--dry-run] [--definition observability/honeycomb/board.json]

Each query is created (Queries API, environment-wide) and named by a query annotation; the board is a
flexible board (the current type; classic boards are refused since 2025-08-15) with one query panel
per query. A second run changes nothing: a query is known by its annotation's name and compared with
its definition; one that drifted gets a new query and annotation (an annotation's query cannot
change), the board is put back if its panels, description or tags differ. Settings: see
`observability.honeycomb.settings`.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any
from urllib.parse import quote

from observability.honeycomb.api import ALL, Api, DryRun, HoneycombError, LiveApi
from observability.honeycomb.settings import HoneycombSetupSettings

DEFINITION = Path(__file__).with_name("board.json")
WIDTH, HEIGHT, COLUMNS = 6, 6, 2  # query panels in two columns on the board's 12-unit grid


def load(path: Path | None = None) -> dict[str, Any]:
    """The queries and board definition (`board.json` beside this module by default)."""
    loaded = json.loads((path or DEFINITION).read_text())
    assert isinstance(loaded, dict)
    return loaded


def same_query(wanted: dict[str, Any], current: dict[str, Any]) -> bool:
    """Whether a stored query answers the wanted one (the API omits `filter_combination` when AND)."""
    current = {"filter_combination": "AND", **current}
    return all(current.get(key) == value for key, value in {"filter_combination": "AND", **wanted}.items())


def ensure_queries(api: Api, queries: list[dict[str, Any]]) -> list[tuple[str, str]]:
    """Each wanted query stored and annotated; their (query id, annotation id), in order."""
    annotations = {a["name"]: a for a in api.get(f"/1/query_annotations/{ALL}") or []}
    ids = []
    for wanted in queries:
        name, description = wanted["name"], wanted.get("description", "")
        found = annotations.get(name)
        if found is not None and same_query(
            wanted["query"], api.get(f"/1/queries/{ALL}/{found['query_id']}")
        ):
            if found.get("description", "") != description:
                body = {"name": name, "description": description, "query_id": found["query_id"]}
                api.send("PUT", f"/1/query_annotations/{ALL}/{found['id']}", body)
                api.say(f"updated the description of {name!r}")
            ids.append((found["query_id"], found["id"]))
            continue
        query = api.send("POST", f"/1/queries/{ALL}", wanted["query"])
        body = {"name": name, "description": description, "query_id": query["id"]}
        annotation = api.send("POST", f"/1/query_annotations/{ALL}", body)
        if found is not None:
            api.send("DELETE", f"/1/query_annotations/{ALL}/{found['id']}")
        api.say(f"{'replaced' if found else 'created'} query {name!r}")
        ids.append((query["id"], annotation["id"]))
    return ids


def board_body(
    board: dict[str, Any], queries: list[dict[str, Any]], ids: list[tuple[str, str]]
) -> dict[str, Any]:
    """The flexible board's request body: one query panel per query, two to a row."""
    panels = [
        {
            "type": "query",
            "query_panel": {
                "query_id": query_id,
                "query_annotation_id": annotation_id,
                "query_style": q["style"],
            },
            "position": {
                "x_coordinate": (n % COLUMNS) * WIDTH,
                "y_coordinate": (n // COLUMNS) * HEIGHT,
                "width": WIDTH,
                "height": HEIGHT,
            },
        }
        for n, (q, (query_id, annotation_id)) in enumerate(zip(queries, ids, strict=True))
    ]
    return {**board, "type": "flexible", "layout_generation": "manual", "panels": panels}


def _panel_key(panel: dict[str, Any]) -> tuple[Any, ...]:
    query, at = panel.get("query_panel") or {}, panel.get("position") or {}
    place = tuple(at.get(k) for k in ("x_coordinate", "y_coordinate", "width", "height"))
    return (
        panel.get("type"),
        query.get("query_id"),
        query.get("query_annotation_id"),
        query.get("query_style"),
        place,
    )


def same_board(wanted: dict[str, Any], current: dict[str, Any]) -> bool:
    """Whether a stored board shows what the wanted body says (extra display settings are ignored)."""
    tags = sorted((t["key"], t["value"]) for t in current.get("tags") or [])
    return (
        current.get("type") == "flexible"
        and current.get("description", "") == wanted.get("description", "")
        and tags == sorted((t["key"], t["value"]) for t in wanted.get("tags", []))
        and [_panel_key(p) for p in current.get("panels") or []] == [_panel_key(p) for p in wanted["panels"]]
    )


def ensure_board(api: Api, body: dict[str, Any]) -> dict[str, Any]:
    """The board created, put back, or left as it is; returns it."""
    found = [b for b in api.get("/1/boards") or [] if b.get("name") == body["name"]]
    if not found:
        api.say(f"created board {body['name']!r}")
        created: dict[str, Any] = api.send("POST", "/1/boards", body)
        return created
    current: dict[str, Any] = found[0]
    if same_board(body, current):
        return current
    api.say(f"updated board {body['name']!r}")
    updated: dict[str, Any] = api.send("PUT", f"/1/boards/{current['id']}", body)
    return updated


def query_link(ui: str, team: str, environment: str, query: dict[str, Any]) -> str:
    """A query template link (Honeycomb docs, "Share a Query"): opening it runs the query."""
    spec = quote(json.dumps(query, separators=(",", ":")), safe="")
    return f"{ui}/{quote(team)}/environments/{quote(environment)}?query={spec}"


def run(api: Api, definition: dict[str, Any], settings: HoneycombSetupSettings) -> dict[str, Any]:
    """Queries, then the board that shows them; prints what changed and where to look."""
    ids = ensure_queries(api, definition["queries"])
    board = ensure_board(api, board_body(definition["board"], definition["queries"], ids))
    if api.reads and board.get("links", {}).get("board_url"):
        print(f"board: {board['links']['board_url']}")
    team, environment = settings.honeycomb_team, settings.honeycomb_environment
    if team and environment:
        for q in definition["queries"]:
            print(f"{q['name']}: {query_link(settings.ui_url(), team, environment, q['query'])}")
    return board


def main(argv: list[str] | None = None) -> int:
    """Plan and apply (or, with `--dry-run`, only print); returns the exit status."""
    parser = argparse.ArgumentParser(prog="python -m observability.honeycomb.setup", description=__doc__)
    parser.add_argument("--dry-run", action="store_true", help="print the calls; no key, no network")
    parser.add_argument("--definition", type=Path, default=None, help="queries and board (JSON)")
    args = parser.parse_args(argv)
    settings = HoneycombSetupSettings()
    definition = load(args.definition)
    if args.dry_run:
        print("dry run: reads skipped (no Honeycomb key or network needed); the plan is what an environment")
        print("without these queries and board gets, a real run makes only the calls still needed")
        run(DryRun(), definition, settings)
        return 0
    if settings.honeycomb_configuration_key is None:
        print(
            "HONEYCOMB_CONFIGURATION_KEY is not set: a configuration key (Manage Queries and Columns,",
            file=sys.stderr,
        )
        print("Manage Public Boards) is needed; --dry-run needs none", file=sys.stderr)
        return 2
    api = LiveApi(settings.honeycomb_api_endpoint, settings.honeycomb_configuration_key.get_secret_value())
    try:
        run(api, definition, settings)
    except HoneycombError as exc:
        print(f"Honeycomb refused a call: {exc}", file=sys.stderr)
        return 1
    finally:
        api.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
