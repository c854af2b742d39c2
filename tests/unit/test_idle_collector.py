"""The live projector collects cyclic garbage when nothing waits on it, not mid-batch."""

from __future__ import annotations

import gc
import weakref

from projector import following
from projector.following import IdleCollector, collector_paused


class Node:
    """An object in a reference cycle: only the cyclic collector frees it."""

    def __init__(self) -> None:
        self.me = self


def _garbage_cycle() -> weakref.ref[Node]:
    node = Node()
    return weakref.ref(node)


def test_a_cycle_waits_while_busy_and_is_freed_once_idle(monkeypatch):
    monkeypatch.setattr(following, "COLLECT_WHEN_IDLE_AFTER", 100)
    with collector_paused():
        collect = IdleCollector()
        cycle = _garbage_cycle()
        made = [[n] for n in range(1000)]  # a batch's worth of allocations

        collect(idle=False)
        busy = cycle() is not None
        collect(idle=True)

    assert made
    assert busy, "collected while a batch could be waiting"
    assert cycle() is None, "not collected when idle"


def test_an_idle_moment_leaves_the_old_heap_to_the_periodic_collection(monkeypatch):
    """Idle, the collector walks what the batches since made, not every remembered state:
    a report arriving meanwhile would wait for that walk."""
    monkeypatch.setattr(following, "COLLECT_WHEN_IDLE_AFTER", 100)
    with collector_paused():
        collect = IdleCollector()
        old = Node()
        gc.collect(1)  # it survives young collections: it is old now
        cycle = weakref.ref(old)
        del old
        made = [[n] for n in range(1000)]

        collect(idle=True)
        left_by_idle = cycle() is not None
        monkeypatch.setattr(following, "COLLECT_EVERY", 0.0)
        collect(idle=False)

    assert made
    assert left_by_idle, "an idle moment walked the whole heap"
    assert cycle() is None, "the periodic full collection did not free it"


def test_under_constant_load_it_still_collects_now_and_then(monkeypatch):
    monkeypatch.setattr(following, "COLLECT_EVERY", 0.0)
    with collector_paused():
        collect = IdleCollector()
        cycle = _garbage_cycle()

        collect(idle=False)

    assert cycle() is None
