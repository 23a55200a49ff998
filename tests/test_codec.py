"""The index codec (indexer.codec): Whoosh's W3 codec with field lengths read once."""

from __future__ import annotations

import os

from whoosh.filedb.filestore import FileStorage

from indexer.codec import ZhCodec
from indexer.records import build_schema


def test_a_field_without_lengths_is_looked_up_once_per_segment_not_per_posting(tmp_path, monkeypatch):
    # Every ID field (id, source, kind, article, date) has no lengths column;
    # the codec looked for the column file again for each posting: 5 os.stat
    # calls per passage, ~8 % of an index run.
    ix = FileStorage(str(tmp_path)).create_index(build_schema())
    calls = []
    real_stat = os.stat

    def stat(path, *args, **kwargs):
        if str(path).startswith(str(tmp_path)):
            calls.append(path)
        return real_stat(path, *args, **kwargs)

    monkeypatch.setattr(os, "stat", stat)
    with ix.writer(codec=ZhCodec()) as writer:
        for n in range(300):
            writer.add_document(id=f"p{n}", kind="paragraph", source=f"{n % 7}.txt",
                                article=f"a{n}", date="2022-01-01", content="劳模精神 工会")
    assert len(calls) < 100, f"{len(calls)} os.stat calls of the index for 300 passages"
    with ix.reader() as reader:
        assert [reader.doc_field_length(n, "content") for n in (0, 299)] == [3, 3]
        assert reader.doc_field_length(0, "source", 7) == 7
