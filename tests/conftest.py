"""Fixtures: a tiny corpus in a temporary folder, its index, the app over it.

Tests never touch the real ``corpus/`` folder or ``index/``: the bundled
report is copied into a temporary corpus.

The index is built once per session. A test marked ``readonly`` shares one
corpus and index with every other such test (and fails if it changed a file
of either); any other test gets its own copy of both, which it may write.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

# The command line speaks the locale's language, chosen when indexer.cli is
# imported (indexer/messages.py); the tests assert its English, so they run
# under the C locale on every machine, a Chinese one too, and so do the
# commands they start. tests/test_cli_language.py sets the locale it tests.
for _name in ("LANG", "LANGUAGE", "LC_MESSAGES"):
    os.environ.pop(_name, None)
os.environ["LC_ALL"] = "C.UTF-8"

ROOT = Path(__file__).resolve().parent.parent
SEED = ROOT / "corpus" / "000_37542822596f49c6.txt"

NEWS_MD = """# 《新闻联播》（20230515）

## 详细新闻

### 全国总工会表彰劳动模范

**央视网消息**（新闻联播）：全国总工会今天在北京表彰一批全国劳动模范和先进工作者。

会议强调，要大力弘扬劳模精神、劳动精神、工匠精神。

[查看原文](https://example.org/a.shtml)

### 故宫博物院推出新展览

故宫博物院今天推出新展览，展出文物三百余件。
"""


@pytest.fixture(scope="session", autouse=True)
def _own_cache(tmp_path_factory):
    """Segmenter recipes cached in a folder of the session's, never the user's
    ``~/.cache`` (the processes tests start inherit it)."""
    patch = pytest.MonkeyPatch()
    patch.setenv("XDG_CACHE_HOME", str(tmp_path_factory.mktemp("xdg-cache")))
    yield
    patch.undo()


@pytest.fixture
def seed_text() -> str:
    """The bundled report as one string with its line breaks removed."""
    return SEED.read_text(encoding="utf-8")


def _copy(source: Path, target: Path) -> Path:
    # copy2 keeps modification times: a copy of the corpus matches a copy of
    # its index, which Store.is_stale compares by size and mtime.
    shutil.copytree(source, target, copy_function=shutil.copy2)
    return target


@pytest.fixture(scope="session")
def _template(tmp_path_factory) -> Path:
    """The test corpus, written once; every test's corpus is a copy."""
    corpus = tmp_path_factory.mktemp("template") / "corpus"
    corpus.mkdir()
    shutil.copy(SEED, corpus / SEED.name)
    (corpus / "20230515.md").write_text(NEWS_MD, encoding="utf-8")
    return corpus


@pytest.fixture(scope="session")
def _template_index(_template: Path) -> Path:
    """The template corpus's index, built once per session."""
    index = _template.parent / "index"
    make_store(_template, index)
    return index


def _files(*folders: Path) -> list[tuple[str, int, int]]:
    return sorted((str(path), stat.st_size, stat.st_mtime_ns)
                  for folder in folders for path in folder.rglob("*")
                  for stat in [path.stat()])


@pytest.fixture(scope="session")
def _shared(_template: Path, _template_index: Path, tmp_path_factory) -> tuple[Path, Path]:
    """One corpus and its index that every ``readonly`` test reads."""
    from indexer.store import Store

    root = tmp_path_factory.mktemp("shared")
    corpus, index = _copy(_template, root / "corpus"), _copy(_template_index, root / "index")
    # The corpus stamp names its commit by the table of contents' inode
    # (indexer/stamp.py): a copy's is rewritten by the first command that
    # reads it, so it is written here, before any readonly test looks.
    Store(corpus, index).stamp()
    return corpus, index


@pytest.fixture
def _shared_unchanged(_shared: tuple[Path, Path], request):
    """The shared corpus and index, checked after the test: a test that
    writes them would change what every later ``readonly`` test reads."""
    before = _files(*_shared)
    yield _shared
    changed = set(_files(*_shared)) ^ set(before)
    assert not changed, (f"{request.node.nodeid} is marked readonly but changed the shared "
                         f"corpus or index: {sorted(changed)[:5]}")


def _readonly(request) -> bool:
    return request.node.get_closest_marker("readonly") is not None


@pytest.fixture
def corpus_dir(request, tmp_path: Path, _template: Path) -> Path:
    if _readonly(request):
        return request.getfixturevalue("_shared_unchanged")[0]
    return _copy(_template, tmp_path / "corpus")


@pytest.fixture
def index_dir(request, tmp_path: Path) -> Path:
    """Where the index is; it exists only once ``store`` (or a command) made it."""
    if _readonly(request):
        return request.getfixturevalue("_shared_unchanged")[1]
    return tmp_path / "index"


def make_store(corpus_dir: Path, index_dir: Path, **kwargs):
    """A store over ``corpus_dir`` with its index built."""
    from indexer.store import Store

    store = Store(corpus_dir, index_dir, **kwargs)
    store.sync()
    return store


def make_service(corpus_dir: Path, index_dir: Path):
    """A search service over ``corpus_dir``, its index built."""
    from indexer.search import SearchService

    return SearchService(make_store(corpus_dir, index_dir))


def make_app(corpus_dir: Path, index_dir: Path, **config):
    """The app in test mode over ``corpus_dir``, its index built; ``config`` overrides."""
    make_store(corpus_dir, index_dir)
    return _app(corpus_dir, index_dir, **config)


def _app(corpus_dir: Path, index_dir: Path, **config):
    from web import create_app

    return create_app({"TESTING": True, "CORPUS_DIR": str(corpus_dir),
                       "INDEX_DIR": str(index_dir), "SECRET_KEY": "test", **config})


@pytest.fixture
def zhsearch_at():
    """``zhsearch_at(corpus, index)("search", …)``: the command over any
    corpus and index, through click's CliRunner."""
    from click.testing import CliRunner

    from indexer.cli import cli

    def at(corpus: Path, index: Path):
        runner = CliRunner()

        def run(*args: str):
            return runner.invoke(cli, ["--corpus", str(corpus), "--index", str(index), *args])
        return run
    return at


@pytest.fixture
def zhsearch(zhsearch_at, corpus_dir: Path, index_dir: Path):
    """``zhsearch ARGS…`` over the test corpus and index."""
    return zhsearch_at(corpus_dir, index_dir)


@pytest.fixture
def store(request, corpus_dir: Path, index_dir: Path):
    """A store over the test's corpus with its index built: the session's
    index, shared (``readonly``) or copied."""
    from indexer.store import Store

    if not _readonly(request):
        _copy(request.getfixturevalue("_template_index"), index_dir)
    store = Store(corpus_dir, index_dir)
    if store.is_stale():  # only if a copy no longer matches (is_stale's rule changed)
        store.sync()
    return store


@pytest.fixture
def service(store):
    from indexer.search import SearchService

    return SearchService(store)


@pytest.fixture
def app(corpus_dir: Path, index_dir: Path, store):
    return _app(corpus_dir, index_dir)


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def recorded_bars(monkeypatch) -> list:
    """zhsearch's progress bar replaced by one that records what it is told;
    the bars made, in order. Off a terminal, as tqdm's own would be."""
    from indexer import cli

    bars: list = []

    class Bar:
        disable = True  # as tqdm's own off a terminal: no "writing the index" line

        def __init__(self, total, files, verb):
            self.total, self.files, self.verb, self.done = total, files, verb, 0
            self.postfix, self.closed = "", False
            bars.append(self)

        def update(self, size):
            self.done += size

        def set_postfix_str(self, text, refresh=True):
            self.postfix = text

        def close(self):
            self.closed = True

    monkeypatch.setattr(cli, "_progress_bar", Bar)
    return bars
