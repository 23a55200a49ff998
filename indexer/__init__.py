"""zhsearch: full-text search for Chinese report and news files."""

from indexer.errors import (IndexCorrupt, IndexLocked, NotInCorpus, QueryError, UnsupportedFile,
                            ZhsearchError)
from indexer.search import SearchService
from indexer.store import Store

__all__ = ["IndexCorrupt", "IndexLocked", "NotInCorpus", "QueryError", "SearchService", "Store",
           "UnsupportedFile", "ZhsearchError"]
