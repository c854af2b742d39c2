"""The ``watchlist`` command line."""

from watchlist.cli import admin, audit, projector, server
from watchlist.cli.base import main

__all__ = ["admin", "audit", "main", "projector", "server"]
