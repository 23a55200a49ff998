"""The reference evaluation (tests/reference.py, Whoosh's own matchers)
agrees with the arrays on what the equivalence tests do not patch."""

from __future__ import annotations

import shutil
from pathlib import Path

from indexer.search import SearchService

from .conftest import ROOT, make_store
from .reference import WhooshService


def test_the_reference_excludes_as_the_arrays_do_on_the_bundled_report(tmp_path: Path) -> None:
    # 工会 first stands in the report's title, before the first passage that
    # holds 职工 and 工会 both: Whoosh 2.7.4's AndNotMatcher never checked
    # that first match, and the reference returned it for 职工 -工会.
    corpus = shutil.copytree(ROOT / "corpus", tmp_path / "corpus")
    store = make_store(corpus, tmp_path / "index")
    arrays, whoosh = SearchService(store), WhooshService(store)
    found = {name: service.search("职工 -工会", limit=0).to_json()
             for name, service in (("arrays", arrays), ("whoosh", whoosh))}
    for result in found.values():
        assert result["hits"], "职工 without 工会 stands in the report"
        assert not [h["id"] for h in result["hits"] if "工会" in h["text"]]
    assert found["whoosh"]["total"] == found["arrays"]["total"]
    assert ([(h["id"], h["score"]) for h in found["whoosh"]["hits"]]
            == [(h["id"], h["score"]) for h in found["arrays"]["hits"]])
