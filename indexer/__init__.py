"""zhsearch: full-text search for Chinese report and news files."""

from indexer.readers import UnsupportedFile
from indexer.search import QueryError, SearchService
from indexer.store import IndexCorrupt, IndexLocked, Store

__all__ = ["IndexCorrupt", "IndexLocked", "QueryError", "SearchService", "Store",
           "UnsupportedFile"]
