"""Exclusions (``职工 -工会``) as Whoosh evaluates them, without its two bugs.

The arrays (:mod:`indexer.evaluate`) answer nearly every query; Whoosh's own
matchers answer what they cannot (:func:`indexer.search._run`), and are the
reference the arrays are tested against. Whoosh 2.7.4's ``AndNotMatcher``,
the matcher of ``a ANDNOT b``, has two bugs the arrays never had:

- ``_find_first`` compares the first ids only: when the excluded matcher
  starts before the first match, that match is never excluded. On the
  bundled report, ``工会`` first stands in the title passage, before the
  first passage that holds ``职工``, which holds ``工会`` too: Whoosh
  returned it for ``职工 -工会``;
- ``skip_to`` reads the id of an exhausted matcher: ``改革 -优秀`` with a
  date range raised IndexError.

:func:`fixed_exclusions` gives a query tree whose every ``AndNot`` is
matched by :class:`AndNotMatcher`.

>>> from whoosh import query as wq
>>> tree = wq.And([wq.Term("kind", "body"), wq.AndNot(wq.Term("content", "职工"),
...                                                    wq.Term("content", "工会"))])
>>> type(fixed_exclusions(tree).subqueries[1]).__name__
'_AndNot'
"""

from __future__ import annotations

import copy

from whoosh import query as wq
from whoosh.matching import ReadTooFar, binary

__all__ = ["AndNotMatcher", "fixed_exclusions"]


class AndNotMatcher(binary.AndNotMatcher):
    """Whoosh 2.7.4's matcher of ``a ANDNOT b`` without its two bugs."""

    def _find_first(self) -> None:
        if self.a.is_active() and self.b.is_active():
            self._find_next()

    def skip_to(self, id: int) -> None:
        if not self.a.is_active():
            raise ReadTooFar
        if id < self.a.id():
            return
        self.a.skip_to(id)
        if self.a.is_active() and self.b.is_active():
            self.b.skip_to(id)
            self._find_next()


class _AndNot(wq.AndNot):
    """``a ANDNOT b`` matched by the fixed :class:`AndNotMatcher`."""

    def matcher(self, searcher, context=None):
        return AndNotMatcher(self.a.matcher(searcher, context),
                             self.b.matcher(searcher, searcher.boolean_context()))


def fixed_exclusions(query: wq.Query) -> wq.Query:
    """``query`` with every ``AndNot`` matched by :class:`AndNotMatcher`; the
    nodes on no path to one are the same objects (``Query.accept`` would
    rebuild every ``Or`` without its ``scale`` and ``minmatch``)."""
    if type(query) is wq.AndNot:
        return _AndNot(fixed_exclusions(query.a), fixed_exclusions(query.b))
    if isinstance(query, wq.WrappingQuery):
        child = fixed_exclusions(query.child)
        return query if child is query.child else query._rewrap(child)
    if isinstance(query, (wq.And, wq.Or)):
        subqueries = [fixed_exclusions(q) for q in query.subqueries]
        if all(new is old for new, old in zip(subqueries, query.subqueries)):
            return query
        fixed = copy.copy(query)
        fixed.subqueries = subqueries
        return fixed
    return query
