"""Watchlist: a shared watchlist of suspicious labour recruiters."""

__version__ = "0.1.0"
