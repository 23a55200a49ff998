"""The layers of the code: what may import what, and settings passed, not patched.

The contracts are setup.cfg's ``[importlinter]`` sections, checked by
import-linter: the web above the engine package, the engine importing no
front door (the command line, the web), the server that runs the app above
the app, and no import cycle between the modules of a package.
"""

from __future__ import annotations

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
