"""The layers of the code: what may import what, and settings passed, not patched.

The contracts are setup.cfg's ``[importlinter]`` sections, checked by
import-linter: the web above the engine package, the engine importing no
front door (the command line, the web), the server that runs the app above
the app, and no import cycle between the modules of a package. And one module,
``indexer/whoosh_internals.py``, reaches into Whoosh's private attributes.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_the_import_contracts_hold(capsys):
    from importlinter.cli import lint_imports

    status = lint_imports(config_filename=str(ROOT / "setup.cfg"), no_cache=True, no_logo=True)
    assert status == 0, capsys.readouterr().out


def test_zhsearch_serve_finds_the_webs_server_through_its_entry_point():
    from importlib.metadata import entry_points

    from web.launch import serve

    (point,) = entry_points(group="zhsearch.servers", name="web")
    assert point.load() is serve


def test_each_server_process_looks_for_new_commits_as_often_as_its_setting_says(
        store, corpus_dir: Path, index_dir: Path, tmp_path: Path):
    """Two apps over one index, as two gunicorn workers: a report another
    process adds is found on the next request by the app set to look every
    time (REFRESH_SECONDS 0, what prefork gives its workers), and not by one
    set to keep its commit for an hour."""
    from web import create_app

    config = {"TESTING": True, "CORPUS_DIR": str(corpus_dir), "INDEX_DIR": str(index_dir),
              "SECRET_KEY": "test"}
    eager = create_app({**config, "REFRESH_SECONDS": 0.0}).test_client()
    keeping = create_app({**config, "REFRESH_SECONDS": 3600.0}).test_client()
    for client in (eager, keeping):  # each holds a searcher over the first commit
        assert client.get("/api/search?q=故宫").get_json()["total"] > 0
        assert client.get("/api/search?q=晨读会").get_json()["total"] == 0

    report = tmp_path / "新报告.txt"
    report.write_text("市总工会举办职工晨读会。", encoding="utf-8")
    store.add_files([report])  # another process's commit: its own Store

    assert eager.get("/api/search?q=晨读会").get_json()["total"] == 1
    assert keeping.get("/api/search?q=晨读会").get_json()["total"] == 0


# -- Whoosh's private attributes: one module knows them -------------------------------

INTERNALS = ROOT / "indexer" / "whoosh_internals.py"
# Subclasses of Whoosh's codec classes, using their own base classes' attributes.
SUBCLASSES = {ROOT / "indexer" / "codec.py"}


def _private_uses(tree: ast.AST) -> Iterator[tuple[int, str, str]]:
    """``(line, name, how)`` of each private name ``tree`` reaches on another
    object: ``x._name``, ``getattr(x, "_name")`` (and ``hasattr``,
    ``setattr``), ``from whoosh... import _name``. An access on ``self`` or
    ``cls`` is a class using its own or its base class's attribute (the
    bulk writer calls ``SegmentWriter``'s ``self._check_state()``)."""
    for node in ast.walk(tree):
        if isinstance(node, ast.Attribute) and node.attr.startswith("_") \
                and not node.attr.startswith("__"):
            if isinstance(node.value, ast.Name) and node.value.id in ("self", "cls"):
                continue
            yield node.lineno, node.attr, f"{ast.unparse(node.value)}.{node.attr}"
        elif isinstance(node, ast.Call) and isinstance(node.func, ast.Name) \
                and node.func.id in ("getattr", "hasattr", "setattr") and len(node.args) >= 2 \
                and isinstance(node.args[1], ast.Constant) and isinstance(node.args[1].value, str) \
                and node.args[1].value.startswith("_"):
            yield node.lineno, node.args[1].value, ast.unparse(node)
        elif isinstance(node, ast.ImportFrom) and (node.module or "").split(".")[0] == "whoosh":
            for alias in node.names:
                if alias.name.startswith("_"):
                    yield node.lineno, alias.name, f"from {node.module} import {alias.name}"


def test_only_whoosh_internals_reaches_into_whooshs_private_attributes():
    """Every private attribute of Whoosh 2.7.4 that zhsearch needs (a
    reader's ``_terms`` and ``_perdoc``, a segment's ``_fieldlengths``, a
    field writer's files, the matcher's block walk, ...) is reached through
    ``indexer/whoosh_internals.py``: a new Whoosh breaks that one file. The
    names are the ones that module uses, read from its source."""
    known = {name for _, name, _ in _private_uses(ast.parse(INTERNALS.read_text("utf-8")))}
    assert {"_perdoc", "_terms", "_fieldlengths", "_segments", "_postfile"} <= known

    found = []
    for path in sorted([*(ROOT / "indexer").rglob("*.py"), *(ROOT / "web").rglob("*.py")]):
        if path == INTERNALS or path in SUBCLASSES:
            continue
        for line, name, how in sorted(_private_uses(ast.parse(path.read_text("utf-8")))):
            if name in known:
                found.append(f"{path.relative_to(ROOT)}:{line}: {how}")
    assert not found, "Whoosh's private attributes outside indexer/whoosh_internals.py:\n" + \
        "\n".join(found)
