"""The committed page script is built from web/ as it is now: a stale bundle fails here, without Node."""

from __future__ import annotations

import hashlib
import json
import re
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
WEB_SOURCE = REPO / "web"
PAGE = REPO / "services" / "gateway" / "web"


def inputs_digest() -> str:
    """web/build.mjs's hash of its inputs: each file's path, NUL, bytes, NUL, in sorted path order."""
    names = ["build.mjs", "package-lock.json", "package.json"]
    names += [f"src/{path.name}" for path in (WEB_SOURCE / "src").iterdir() if path.is_file()]
    digest = hashlib.sha256()
    for name in sorted(names):
        digest.update(name.encode() + b"\0" + (WEB_SOURCE / name).read_bytes() + b"\0")
    return digest.hexdigest()


def test_committed_bundle_was_built_from_the_current_sources() -> None:
    """app.js names the hash of package.json, package-lock.json, build.mjs and src/: run `make web` if not."""
    header = (PAGE / "app.js").read_text().split("\n", 1)[0]
    stamped = re.search(r"inputs-sha256: ([0-9a-f]{64})", header)
    assert stamped, f"app.js has no inputs hash in its first line: {header[:120]!r}"
    assert stamped.group(1) == inputs_digest(), "services/gateway/web/app.js is stale: run `make web`"


def test_every_dependency_is_pinned_and_locked() -> None:
    """package.json pins exact versions and package-lock.json locks those, so `npm ci` is reproducible."""
    manifest = json.loads((WEB_SOURCE / "package.json").read_text())
    lock = json.loads((WEB_SOURCE / "package-lock.json").read_text())
    wanted = {**manifest["dependencies"], **manifest["devDependencies"]}
    assert all(re.fullmatch(r"\d+\.\d+\.\d+", version) for version in wanted.values()), wanted
    for name, version in wanted.items():
        assert lock["packages"][f"node_modules/{name}"]["version"] == version


def test_the_page_loads_only_files_that_are_committed() -> None:
    """Every script and stylesheet index.html names is a file beside it (no CDN, no build at run time)."""
    html = (PAGE / "index.html").read_text()
    assets = re.findall(r'(?:src|href)="/static/([^"]+)"', html)
    assert sorted(assets) == ["app.js", "style.css"]
    assert all((PAGE / asset).is_file() for asset in assets)
    assert "://" not in html, "the page loads nothing from elsewhere"
