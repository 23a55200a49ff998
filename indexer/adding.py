"""What ``zhsearch add`` puts into the corpus: which files, under which names.

A file keeps its own name. A folder brings every report under it, hidden
files and folders skipped, under the folder's name and the path inside it
(``简报/2023/05.txt``), so that reports of the same name in different
folders stay apart. Two files of one add that would still get the same name
(``a/报告.txt b/报告.txt``) are both kept: the later one under a numbered
name (``报告 (2).txt``), and the plan says so.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

from indexer import names
from indexer.corpus import Corpus
from indexer.readers import is_supported


@dataclass
class Addition:
    """One file to add, and the name it has in the corpus."""

    name: str
    path: Path
    wanted: str = ""  # the name it would have had, when another file of the add has it
    other: Path | None = None  # that other file


@dataclass
class AddPlan:
    additions: list[Addition] = field(default_factory=list)
    not_reports: list[Path] = field(default_factory=list)  # files under a folder in other formats
    empty_folders: list[Path] = field(default_factory=list)  # folders with no report in them
    in_corpus: list[Path] = field(default_factory=list)  # folders that are (in) the corpus itself

    @property
    def renamed(self) -> list[Addition]:
        return [a for a in self.additions if a.wanted]


def _folder_files(folder: Path) -> tuple[list[Path], list[Path]]:
    """Report files under ``folder`` and the other files, hidden ones skipped, in order."""
    reports: list[Path] = []
    others: list[Path] = []
    # os.walk does not follow links to folders: a link loop cannot make it run forever.
    for top, dirs, files in os.walk(folder):
        dirs[:] = sorted(d for d in dirs if not names.is_hidden(d))
        for name in sorted(files):
            if names.is_hidden(name):
                continue
            path = Path(top) / name
            (reports if is_supported(path) else others).append(path)
    return reports, others


def _same_content(a: Path, b: Path) -> bool:
    try:
        return a.stat().st_size == b.stat().st_size and a.read_bytes() == b.read_bytes()
    except OSError:
        return False


def plan_add(paths: list[Path], corpus: Corpus) -> AddPlan:
    """The files ``paths`` (files and folders) add, and their names in ``corpus``.

    A numbered name is never one that another file of the add takes, nor
    that of a different file already in the corpus (the same content
    there is this file added before: it is found again, not copied twice).
    """
    plan = AddPlan()
    wanted: list[tuple[str, Path]] = []
    seen: set[Path] = set()
    corpus_folder = corpus.folder.resolve()
    for given in paths:
        if given.is_dir() and given.resolve().is_relative_to(corpus_folder):
            plan.in_corpus.append(given)
        elif given.is_dir():
            reports, others = _folder_files(given)
            plan.not_reports += others
            if not reports:
                plan.empty_folders.append(given)
            base = given.resolve().name
            for path in reports:
                relative = path.relative_to(given).as_posix()
                wanted.append((names.nfc(f"{base}/{relative}" if base else relative), path))
        else:
            wanted.append((names.nfc(given.name), given))
    taken: dict[str, Path] = {}
    for name, path in wanted:
        key = path.resolve() if path.exists() else path.absolute()
        if key in seen:  # the same file twice (a folder and a file in it)
            continue
        seen.add(key)
        if name not in taken:
            taken[name] = path
            plan.additions.append(Addition(name, path))
            continue
        n = 2
        while True:
            candidate = names.numbered_name(name, n)
            existing = corpus.folder / candidate
            if candidate not in taken and (not existing.exists() or _same_content(existing, path)):
                break
            n += 1
        taken[candidate] = path
        plan.additions.append(Addition(candidate, path, wanted=name, other=taken[name]))
    return plan
