"""Earlier versions of reports, so that no report is ever lost.

When an upload or ``zhsearch add`` replaces a report with other content, or
``zhsearch remove`` deletes one, the bytes it had are first kept in the
corpus's hidden folder ``.versions/<name>/<N>`` (numbered from 1, never
reused). Hidden folders are not reports, so versions are never indexed.
``zhsearch versions NAME`` lists them; ``zhsearch restore NAME [--version N]``
brings one back (the content it replaces is kept as a version in turn).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from indexer.corpus import write_atomically

VERSIONS_DIR = ".versions"


@dataclass(frozen=True)
class Version:
    """One kept version of a report."""

    number: int
    path: Path
    size: int
    saved: float  # when it was replaced (seconds since the epoch)


class Versions:
    """The kept versions of the reports of one corpus folder."""

    def __init__(self, corpus_dir: Path):
        self.root = Path(corpus_dir) / VERSIONS_DIR

    def _folder(self, source: str) -> Path:
        # ``source`` is a normalised corpus name (indexer.corpus.source_name):
        # relative, without ``..``.
        return self.root / source

    def list(self, source: str) -> list[Version]:
        """The versions of ``source``, oldest first."""
        folder = self._folder(source)
        if not folder.is_dir():
            return []
        versions = []
        for path in folder.iterdir():
            if path.name.isdigit() and path.is_file():
                stat = path.stat()
                versions.append(Version(int(path.name), path, stat.st_size, stat.st_mtime))
        return sorted(versions, key=lambda v: v.number)

    def keep(self, source: str, data: bytes) -> Version:
        """Keep ``data`` as the next version of ``source`` (written atomically)."""
        versions = self.list(source)
        if versions and versions[-1].path.read_bytes() == data:
            return versions[-1]  # kept already (a write that failed after keeping it)
        number = versions[-1].number + 1 if versions else 1
        path = self._folder(source) / str(number)
        write_atomically(path, data)
        stat = path.stat()
        return Version(number, path, stat.st_size, stat.st_mtime)

    def get(self, source: str, number: int | None = None) -> Version | None:
        """Version ``number`` of ``source`` (the latest when None), or None."""
        versions = self.list(source)
        if number is None:
            return versions[-1] if versions else None
        return next((v for v in versions if v.number == number), None)
