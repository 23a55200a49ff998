"""What ``zhsearch serve`` runs: gunicorn with a worker per core where it runs
(:mod:`web.prefork`), waitress in one process elsewhere (:mod:`web.server`).

The command line finds :func:`serve` through the ``zhsearch.servers`` entry
point (setup.cfg) and imports no module of the web itself: the engine
package stays below the web (setup.cfg's import contracts, checked by
tests/test_layers.py).
"""

from __future__ import annotations

from indexer.store import Store
from web import prefork, server


def serve(store: Store, host: str = "127.0.0.1", port: int = 5000, threads: int = 8) -> None:
    """Serve the app over ``store`` until Ctrl+C: gunicorn with a worker per
    core, or waitress where gunicorn cannot run."""
    if prefork.available():
        prefork.serve(store, host=host, port=port, threads=threads)
    else:
        server.make_server(store, host=host, port=port, threads=threads).run()
