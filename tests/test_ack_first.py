"""The worker pool holds work back while requests are in flight, never for long, and runs it all once quiet."""

from __future__ import annotations

import threading

from handlers.ack_first import PATIENCE, AckFirstExecutor


def blocking(started: list[int], release: threading.Event, number: int):  # type: ignore[no-untyped-def]
    def task() -> int:
        started.append(number)
        release.wait(5)
        return number

    return task


def test_work_waits_while_a_request_is_in_flight_and_runs_when_it_ends():
    pool = AckFirstExecutor(4)
    ran = threading.Event()
    pool.request_started()
    future = pool.submit(ran.set)
    assert not ran.wait(PATIENCE / 3)  # held back: the request is still waiting for its ack
    pool.request_finished()
    future.result(timeout=5)
    assert ran.is_set()
    pool.shutdown()


def test_while_requests_keep_coming_held_work_runs_after_its_patience_one_task_at_a_time():
    pool = AckFirstExecutor(4)
    started: list[int] = []
    release = threading.Event()
    pool.request_started()  # a request that never ends: requests keep arriving
    first, second = pool.submit(blocking(started, release, 1)), pool.submit(blocking(started, release, 2))
    for _ in range(50):
        if started:
            break
        threading.Event().wait(PATIENCE / 5)
    assert started == [1]  # one task, after waiting its patience
    assert not threading.Event().wait(PATIENCE * 2) and started == [1]  # never two while busy
    release.set()
    assert (first.result(timeout=5), second.result(timeout=5)) == (1, 2)
    pool.request_finished()
    pool.shutdown()


def test_when_quiet_every_worker_runs_at_once_and_errors_reach_the_future():
    pool = AckFirstExecutor(3)
    started: list[int] = []
    release = threading.Event()
    futures = [pool.submit(blocking(started, release, n)) for n in range(3)]
    for _ in range(50):
        if len(started) == 3:
            break
        threading.Event().wait(0.02)
    assert sorted(started) == [0, 1, 2]  # all three running together
    release.set()
    assert [f.result(timeout=5) for f in futures] == [0, 1, 2]

    def fail() -> None:
        raise ValueError("boom")

    error = pool.submit(fail).exception(timeout=5)
    assert isinstance(error, ValueError) and str(error) == "boom"
    pool.shutdown()
