"""Fixtures: a tiny corpus in a temporary folder, its index, the app over it.

Tests never touch the real ``corpus/`` folder or ``index/``: the bundled
report is copied into a temporary corpus.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

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


@pytest.fixture
def corpus_dir(tmp_path: Path) -> Path:
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    shutil.copy(SEED, corpus / SEED.name)
    (corpus / "20230515.md").write_text(NEWS_MD, encoding="utf-8")
    return corpus


@pytest.fixture
def index_dir(tmp_path: Path) -> Path:
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
    from web import create_app

    make_store(corpus_dir, index_dir)
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
def store(corpus_dir: Path, index_dir: Path):
    return make_store(corpus_dir, index_dir)


@pytest.fixture
def service(store):
    from indexer.search import SearchService

    return SearchService(store)


@pytest.fixture
def app(corpus_dir: Path, index_dir: Path, store):
    return make_app(corpus_dir, index_dir)


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def runner(app):
    return app.test_cli_runner()


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
