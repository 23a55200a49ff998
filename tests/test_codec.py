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


def _postings(reader) -> dict:
    found = {}
    for fieldname, btext in reader.all_terms():
        m = reader.postings(fieldname, btext)
        items = found[(fieldname, btext)] = []
        while m.is_active():
            items.append((m.id(), m.weight(), m.value() or b""))  # b"" or None: no value
            m.next()
    return found


def test_terms_of_one_passage_kept_in_their_term_info_read_and_merge_as_whooshs_blocks(tmp_path):
    """Stock Whoosh reads, searches and merges a segment whose terms of one
    posting are kept in the term info, as it does the plain W3 codec's."""
    from whoosh.codec.whoosh3 import W3Codec
    from whoosh.qparser import QueryParser
    from whoosh.writing import OPTIMIZE

    def index(folder, codec):
        folder.mkdir()
        ix = FileStorage(str(folder)).create_index(build_schema())
        for batch in range(2):  # two segments, merged below by Whoosh's own merge
            with ix.writer(codec=codec) as writer:
                for n in range(150):
                    writer.add_document(id=f"p{batch}-{n}", kind="paragraph", source="a.txt",
                                        content="劳模精神" if n % 50 else f"工会{n}号")
        return ix

    plain, inlined = index(tmp_path / "plain", W3Codec()), index(tmp_path / "inlined", ZhCodec())
    with plain.reader() as expected, inlined.reader() as got:
        assert _postings(got) == _postings(expected)
        kept = [t for leaf, _ in got.leaf_readers() for t in leaf.all_terms()
                if leaf.term_info(*t).is_inlined()]
        assert len(kept) >= 300  # every id, and the words of one passage
    query = QueryParser("content", inlined.schema).parse("工会0号 OR 劳模")
    with plain.searcher() as s1, inlined.searcher() as s2:
        assert [(h.docnum, h.score) for h in s2.search(query, limit=None)] == \
            [(h.docnum, h.score) for h in s1.search(query, limit=None)]
    for ix in (plain, inlined):
        ix.writer().commit(mergetype=OPTIMIZE)  # Whoosh's own merge, its own codec
    with plain.reader() as expected, inlined.reader() as got:
        assert _postings(got) == _postings(expected)
