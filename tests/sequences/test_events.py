"""The event bus: ordered delivery, a slow subscriber loses only point events and never
stalls the publisher."""

from __future__ import annotations

import threading

from kmor.sequences import events as ev
from kmor.sequences.events import Event, EventBus


def point(i):
    return Event(kind=ev.POINT, time_s=float(i), index=i)


def test_async_subscriber_gets_everything_in_order_when_it_keeps_up():
    bus = EventBus()
    got = []
    bus.subscribe(got.append)
    for i in range(500):
        bus.publish(point(i))
    bus.publish(Event(kind=ev.FINISHED, time_s=500.0, status="complete"))
    bus.close()
    assert [e.index for e in got[:-1]] == list(range(500))
    assert got[-1].kind == ev.FINISHED


def test_a_stuck_subscriber_drops_old_points_but_keeps_lifecycle_events():
    bus = EventBus()
    release = threading.Event()
    got = []

    def stuck(event):
        release.wait(30)
        got.append(event)
    sub = bus.subscribe(stuck, max_queued=50)
    bus.publish(Event(kind=ev.SCAN_STARTED, time_s=0.0))
    for i in range(10_000):            # returns although the subscriber is blocked
        bus.publish(point(i))
    bus.publish(Event(kind=ev.SCAN_FINISHED, time_s=1.0, status="complete"))
    release.set()
    bus.close()
    kinds = [e.kind for e in got]
    assert kinds[0] == ev.SCAN_STARTED and kinds[-1] == ev.SCAN_FINISHED
    points = [e.index for e in got if e.kind == ev.POINT]
    assert len(points) <= 2 * 50     # the bound, plus at most one batch already in the subscriber's hands
    assert points[-50:] == list(range(9_950, 10_000))   # the newest are kept
    assert sub.dropped == 10_000 - len(points)


def test_a_failing_async_subscriber_does_not_reach_the_publisher():
    bus = EventBus()
    calls = []

    def broken(event):
        calls.append(event)
        raise RuntimeError("display crashed")
    sub = bus.subscribe(broken)
    bus.publish(point(0))
    bus.publish(point(1))
    bus.close()
    assert len(calls) == 2 and sub.failures == 2


def test_synchronous_subscribers_run_before_publish_returns():
    bus = EventBus()
    got = []
    bus.subscribe(got.append, synchronous=True)
    bus.publish(point(7))
    assert [e.index for e in got] == [7]
