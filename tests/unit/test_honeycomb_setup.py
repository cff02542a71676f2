"""The Honeycomb setup, against a stand-in that answers and refuses as Honeycomb's API reference says."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest

from observability.honeycomb.setup import load, main
from tests.e2e.harness import free_port
from tests.standins.honeycomb import HoneycombStandIn

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture
def honeycomb(monkeypatch: pytest.MonkeyPatch) -> Iterator[HoneycombStandIn]:
    standin = HoneycombStandIn().start()
    monkeypatch.setenv("HONEYCOMB_API_ENDPOINT", standin.endpoint)
    monkeypatch.setenv("HONEYCOMB_CONFIGURATION_KEY", standin.key)
    for name in ("HONEYCOMB_TEAM", "HONEYCOMB_ENVIRONMENT"):
        monkeypatch.delenv(name, raising=False)
    yield standin
    standin.stop()


def the_board(standin: HoneycombStandIn) -> dict[str, Any]:
    [board] = standin.boards.values()
    return board


def test_a_fresh_environment_gets_every_query_annotated_and_one_board(honeycomb: HoneycombStandIn) -> None:
    """One run stores each query, names it with an annotation, and puts them all on one flexible board."""
    assert main([]) == 0
    definition = load()
    assert honeycomb.refused == []
    assert sorted(honeycomb.queries.values(), key=json.dumps) == sorted(
        (q["query"] for q in definition["queries"]), key=json.dumps
    )
    names = {a["name"]: a for a in honeycomb.annotations.values()}
    assert set(names) == {q["name"] for q in definition["queries"]}
    board = the_board(honeycomb)
    assert board["type"] == "flexible" and board["name"] == definition["board"]["name"]
    shown = [(p["query_panel"]["query_id"], p["query_panel"]["query_annotation_id"]) for p in board["panels"]]
    assert shown == [(names[q["name"]]["query_id"], names[q["name"]]["id"]) for q in definition["queries"]]
    positions = {(p["position"]["x_coordinate"], p["position"]["y_coordinate"]) for p in board["panels"]}
    assert len(positions) == len(board["panels"]), "two panels on the same spot"


def test_a_second_run_only_reads(honeycomb: HoneycombStandIn, capsys: pytest.CaptureFixture[str]) -> None:
    """Run again against what it made, the command makes no write at all."""
    assert main([]) == 0
    made = len(honeycomb.writes())
    capsys.readouterr()
    assert main([]) == 0
    assert len(honeycomb.writes()) == made and honeycomb.refused == []
    assert "created" not in capsys.readouterr().out


def test_drift_is_put_back_without_duplicates(honeycomb: HoneycombStandIn) -> None:
    """An edited description is updated in place; a query whose definition changed gets a new query and
    annotation (an annotation's query cannot change), the old annotation goes, and the board follows."""
    assert main([]) == 0
    definition = load()
    first, second = definition["queries"][0]["name"], definition["queries"][1]["name"]
    by_name = {a["name"]: a for a in honeycomb.annotations.values()}
    by_name[first]["description"] = "edited by hand"
    honeycomb.queries[by_name[second]["query_id"]] = {"calculations": [{"op": "COUNT"}]}
    old_second = by_name[second]["id"]
    assert main([]) == 0
    assert honeycomb.refused == []
    by_name = {a["name"]: a for a in honeycomb.annotations.values()}
    assert len(honeycomb.annotations) == len(definition["queries"])
    assert by_name[first]["description"] == definition["queries"][0]["description"]
    assert by_name[second]["id"] != old_second
    assert ("PUT", f"/1/boards/{the_board(honeycomb)['id']}") in honeycomb.calls
    panel_ids = {p["query_panel"]["query_annotation_id"] for p in the_board(honeycomb)["panels"]}
    assert panel_ids == set(honeycomb.annotations)


def test_dry_run_needs_no_key_and_sends_nothing(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """Without a key and with nothing listening, `--dry-run` prints every call of the plan and succeeds."""
    monkeypatch.delenv("HONEYCOMB_CONFIGURATION_KEY", raising=False)
    monkeypatch.setenv("HONEYCOMB_API_ENDPOINT", f"http://127.0.0.1:{free_port()}")
    assert main(["--dry-run"]) == 0
    out = capsys.readouterr().out
    assert "reads skipped" in out
    queries = len(load()["queries"])
    assert out.count("would POST /1/queries/__all__ ") == queries
    assert out.count("would POST /1/query_annotations/__all__ ") == queries
    assert out.count("would POST /1/boards ") == 1 and '"type": "flexible"' in out


def test_a_real_run_without_a_key_says_which_setting(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """Without HONEYCOMB_CONFIGURATION_KEY the command exits 2 naming it, before any call."""
    monkeypatch.delenv("HONEYCOMB_CONFIGURATION_KEY", raising=False)
    assert main([]) == 2
    assert "HONEYCOMB_CONFIGURATION_KEY" in capsys.readouterr().err


def test_a_refused_call_is_one_line_not_a_traceback(
    honeycomb: HoneycombStandIn, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """A key Honeycomb does not accept ends the run with status 1 and Honeycomb's own message."""
    monkeypatch.setenv("HONEYCOMB_CONFIGURATION_KEY", "wrong-key")
    assert main([]) == 1
    assert "HTTP 401" in capsys.readouterr().err and honeycomb.writes() == []


def test_readme_links_every_query_as_defined() -> None:
    """Each query of board.json has a link in the README that opens exactly that query."""
    readme = (REPO / "README.md").read_text()
    links = dict(re.findall(r"\[(Cruddur: [^\]]+)\]\((https://ui\.honeycomb\.io/[^)]+)\)", readme))
    for query in load()["queries"]:
        assert query["name"] in links, f"README does not link {query['name']!r}"
        spec = parse_qs(urlsplit(links[query["name"]]).query)["query"][0]
        assert json.loads(spec) == query["query"]
