"""The command line in the user's language: Chinese under a Chinese locale,
English otherwise, chosen at start from the environment as gettext does.
Real processes: the language is chosen once, when the command starts."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
BINARY = bytes(range(256)) * 8


def _run(env: dict[str, str], corpus: Path, index: Path, *args: str) -> subprocess.CompletedProcess:
    environ = {k: v for k, v in os.environ.items()
               if k not in ("LANG", "LANGUAGE", "LC_ALL", "LC_MESSAGES")}
    # Bounded: a small corpus indexes in seconds; the bound only guards against a hang.
    return subprocess.run([sys.executable, "-m", "indexer.cli", "--corpus", str(corpus),
                           "--index", str(index), *args], cwd=ROOT, env={**environ, **env},
                          capture_output=True, text=True, timeout=300)


@pytest.fixture
def corpus(tmp_path: Path) -> Path:
    folder = tmp_path / "corpus"
    folder.mkdir()
    (folder / "报告.txt").write_text("全国劳动模范黎贤花在会上发言。\n\n工会组织职工开展技能竞赛。\n",
                                     encoding="utf-8")
    (tmp_path / "x.txt").write_bytes(BINARY)
    return folder


@pytest.mark.parametrize("env, chinese", [
    ({"LANG": "zh_CN.UTF-8"}, True),
    ({"LANG": "C"}, False),
    ({"LANG": "en_US.UTF-8"}, False),
], ids=["zh_CN", "C", "en_US"])
def test_refusals_errors_and_help_speak_the_users_language(tmp_path, corpus, env, chinese):
    index = tmp_path / "index"
    indexed = _run(env, corpus, index, "index")
    assert indexed.returncode == 0, indexed.stderr
    added = _run(env, corpus, index, "add", str(tmp_path / "x.txt"))
    assert added.returncode == 1, added.stderr
    missing = _run(env, corpus, index, "show", "nope")
    assert missing.returncode == 1
    helped = _run(env, corpus, index, "search", "--help")
    assert helped.returncode == 0
    if chinese:
        assert "已拒绝 x.txt：看起来是二进制文件，不是文本" in added.stderr.splitlines()
        assert indexed.stdout == "已添加 报告.txt（3 个段落）\n已索引 1 个文件，3 个段落。\n"
        assert missing.stderr == ("错误：没有这篇文章：它所在的文件可能已被删除或改名。"
                                  "提示：`zhsearch search --json` 给出每条结果的文章 id（article）。\n")
        assert helped.stdout.startswith("用法：zhsearch search [OPTIONS] QUERY...\n\n  搜索语料库：")
        assert "每页段落数；0 显示全部结果。" in helped.stdout and "Passages per page" not in helped.stdout
    else:
        assert "refused x.txt: looks like a binary file, not text" in added.stderr.splitlines()
        assert indexed.stdout == "added 报告.txt (3 passages)\n1 files, 3 passages indexed.\n"
        assert missing.stderr == ("Error: no article 'nope' is indexed. "
                                  "Hint: `zhsearch search --json` gives each hit's article id.\n")
        assert helped.stdout.startswith("Usage: zhsearch search [OPTIONS] QUERY...\n\n  Search the corpus:")
        assert "Passages per page; 0 shows every hit." in helped.stdout


@pytest.mark.parametrize("env, chinese", [
    # gettext's order: LC_ALL, then LC_MESSAGES, then LANG; LANGUAGE first unless the locale is C.
    ({"LANG": "C.UTF-8", "LC_ALL": "zh_TW.UTF-8"}, True),
    ({"LANG": "C.UTF-8", "LC_MESSAGES": "zh_CN.UTF-8"}, True),
    ({"LANG": "en_US.UTF-8", "LANGUAGE": "zh_CN:en"}, True),
    ({"LANG": "zh_CN.UTF-8", "LC_ALL": "C"}, False),
    ({"LANG": "C", "LANGUAGE": "zh_CN"}, False),
], ids=["LC_ALL", "LC_MESSAGES", "LANGUAGE", "LC_ALL=C", "LANGUAGE-under-C"])
def test_the_language_is_the_locales_in_gettexts_order(tmp_path, corpus, env, chinese):
    helped = _run(env, corpus, tmp_path / "index", "--help")
    assert helped.returncode == 0
    assert helped.stdout.startswith("用法：zhsearch" if chinese else "Usage: zhsearch"), helped.stdout


def test_the_json_is_the_same_in_every_language(tmp_path, corpus):
    # The JSON is a contract: its keys, codes and texts do not follow the locale.
    index = tmp_path / "index"
    outputs = []
    for lang in ("zh_CN.UTF-8", "C"):
        run = _run({"LANG": lang}, corpus, index, "search", "劳动模范", "--json")
        assert run.returncode == 0, run.stderr
        data = json.loads(run.stdout)
        data.pop("took_ms")
        outputs.append(data)
    assert outputs[0] == outputs[1] and outputs[0]["total"] == 1
    refused = _run({"LANG": "zh_CN.UTF-8"}, corpus, index, "search", "劳模", "--from", "2023-13-01")
    assert (refused.returncode, refused.stderr) == (
        2, "错误：日期“2023-13-01”无效，请写成 年-月-日，例如 2023-05-15。\n")
