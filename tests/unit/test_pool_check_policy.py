"""The pool checks a connection it lends only when the connection may have gone stale."""

from __future__ import annotations

from psycopg_pool import ConnectionPool

from watchlist.persistence import CheckAfterIdle


class Conn:
    """Stands for a pooled connection: the check only needs its identity."""


def test_a_connection_is_checked_when_first_lent_and_after_sitting_idle(monkeypatch):
    checked: list[Conn] = []
    monkeypatch.setattr(ConnectionPool, "check_connection", staticmethod(checked.append))
    now = [100.0]
    check = CheckAfterIdle(1.0, clock=lambda: now[0])
    a, b = Conn(), Conn()

    check(a)
    check(b)
    now[0] += 0.5
    check(a)  # lent again half a second later: no round trip
    check(a)
    now[0] += 1.5
    check(a)  # idle 1.5 s: checked
    check(b)  # last lent 2 s ago: checked

    assert checked == [a, b, a, b]
