"""The ``watchlist`` command line."""

from watchlist.cli import admin, audit, importer, projector, server
from watchlist.cli.base import main

__all__ = ["admin", "audit", "importer", "main", "projector", "server"]
