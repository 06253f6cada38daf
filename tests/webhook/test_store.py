"""The SQLite store: migrations, dedupe, state machine, logs, concurrent use, group commit."""

from __future__ import annotations

import asyncio
import sqlite3
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from tests.support.clocks import run_coroutine
from webhook.queue import DeploymentQueue, QueueUnavailable, RecordingQueue
from webhook.store import MIGRATIONS, DeliveryStatus, NewDeployment, NotFound, Store
from webhook.store.states import DeploymentKind, DeploymentState, InvalidTransition

S = DeploymentState


def deploy(sha: str = "a" * 40, stack: str = "dev") -> NewDeployment:
    return NewDeployment(kind=DeploymentKind.DEPLOY, stack=stack, sha=sha, ref="refs/heads/main")


@pytest.fixture
def store(tmp_path: Path) -> Store:
    with Store.open(tmp_path / "state" / "slipway.db") as opened:
        yield opened


def test_open_creates_a_wal_database_with_the_schema_version(tmp_path: Path) -> None:
    path = tmp_path / "new" / "slipway.db"
    with Store.open(path) as store:
        assert store.schema_version == len(MIGRATIONS)
    with sqlite3.connect(path) as conn:
        assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        assert conn.execute("SELECT version FROM schema_version").fetchall() == [(len(MIGRATIONS),)]
    with Store.open(path) as again:  # reopening migrates nothing and keeps the data
        assert again.schema_version == len(MIGRATIONS)


def test_a_newer_schema_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "slipway.db"
    Store.open(path).close()
    with sqlite3.connect(path) as conn:
        conn.execute("UPDATE schema_version SET version = 99")
    with pytest.raises(RuntimeError, match="newer than this code"):
        Store.open(path)


def test_delivery_dedupe_and_failed_redelivery(store: Store) -> None:
    first = store.record_delivery("d1", "push", deployment=deploy())
    assert not first.duplicate and first.deployment is not None
    assert first.deployment.delivery_id == "d1"
    again = store.record_delivery("d1", "push", deployment=deploy("b" * 40))
    assert again.duplicate and again.deployment == first.deployment
    assert len(store.list_deployments()) == 1

    store.mark_delivery_failed("d1", "queue down")
    retried = store.record_delivery("d1", "push", deployment=deploy("b" * 40))
    assert not retried.duplicate
    assert retried.delivery.attempts == 2 and retried.delivery.status == DeliveryStatus.PROCESSED
    assert retried.deployment is not None and retried.deployment.sha == "b" * 40


def test_state_machine_and_history(store: Store) -> None:
    deployment = store.create_deployment(deploy())
    for state in (S.RUNNING, S.VERIFYING, S.FAILED, S.ROLLING_BACK):
        store.set_state(deployment.id, state, f"now {state}")
    final = store.set_state(deployment.id, S.ROLLED_BACK, "done", rolled_back_to="c" * 40)
    assert final.state is S.ROLLED_BACK and final.rolled_back_to == "c" * 40
    history = store.state_history(deployment.id)
    assert [h.state for h in history] == [
        S.QUEUED, S.RUNNING, S.VERIFYING, S.FAILED, S.ROLLING_BACK, S.ROLLED_BACK
    ]  # fmt: skip
    with pytest.raises(InvalidTransition, match="cannot go from rolled_back to running"):
        store.set_state(deployment.id, S.RUNNING)
    with pytest.raises(NotFound):
        store.set_state(12345, S.RUNNING)
    assert len(store.state_history(deployment.id)) == 6  # the refused change left no row


def test_set_states_applies_several_changes_in_one_commit(store: Store) -> None:
    deployment = store.create_deployment(deploy())
    store.set_state(deployment.id, S.RUNNING)
    final = store.set_states(
        deployment.id, [(S.FAILED, "why", None), (S.ROLLING_BACK, "to x", "abc")]
    )
    assert final.state is S.ROLLING_BACK and final.rolled_back_to == "abc"
    assert store.get_deployment(deployment.id) == final
    history = [(h.state, h.note) for h in store.state_history(deployment.id)]
    assert history[-2:] == [(S.FAILED, "why"), (S.ROLLING_BACK, "to x")]
    assert len(history) == 4


def test_set_states_with_a_refused_change_writes_none_of_them(store: Store) -> None:
    deployment = store.create_deployment(deploy())
    before = store.set_state(deployment.id, S.RUNNING)
    history = store.state_history(deployment.id)
    refused = [(S.FAILED, "why", "abc"), (S.SUCCEEDED, "no", None)]  # failed → succeeded
    with pytest.raises(InvalidTransition, match="cannot go from failed to succeeded"):
        store.set_states(deployment.id, refused)
    assert store.get_deployment(deployment.id) == before
    assert store.state_history(deployment.id) == history


def test_a_refused_set_states_in_a_shared_batch_writes_nothing(store: Store) -> None:
    # The writer redoes a failed batch one write per transaction: the refused list must
    # leave nothing behind there either, and the write batched with it still commits.
    deployment = store.create_deployment(deploy())
    before = store.set_state(deployment.id, S.RUNNING)
    refused = [(S.FAILED, "why", None), (S.SUCCEEDED, "no", None)]
    started, gate = threading.Event(), threading.Event()

    def hold_the_writer(conn: sqlite3.Connection) -> None:
        started.set()
        assert gate.wait(10)

    held = store.submit(hold_the_writer)
    assert started.wait(10)  # the writer runs `held`: what comes next queues up as one batch
    with ThreadPoolExecutor(1) as pool:
        failing = pool.submit(store.set_states, deployment.id, refused)
        other = store.submit(lambda conn: conn.execute("INSERT INTO meta VALUES ('k', 'v')"))
        deadline = time.monotonic() + 10
        while store._writer._queue.qsize() < 2:
            assert time.monotonic() < deadline, "set_states never reached the writer"
            time.sleep(0.001)
        gate.set()
        with pytest.raises(InvalidTransition):
            failing.result()
    held.result()
    other.result()
    assert store.get_deployment(deployment.id) == before
    assert [h.state for h in store.state_history(deployment.id)] == [S.QUEUED, S.RUNNING]


def test_mark_interrupted_and_queued_work_at_startup(store: Store) -> None:
    running = store.create_deployment(deploy("1" * 40))
    store.set_state(running.id, S.RUNNING)
    queued = store.create_deployment(deploy("2" * 40))
    interrupted = store.mark_interrupted()
    assert [d.id for d in interrupted] == [running.id]
    assert store.get_deployment(running.id).state is S.INTERRUPTED
    assert [d.id for d in store.deployments_in_states([S.QUEUED])] == [queued.id]


def test_last_good_skips_previews_and_failures(store: Store) -> None:
    def finish(new: NewDeployment, *states: DeploymentState) -> int:
        deployment = store.create_deployment(new)
        for state in states:
            store.set_state(deployment.id, state)
        return deployment.id

    good = finish(deploy("1" * 40), S.RUNNING, S.VERIFYING, S.SUCCEEDED)
    preview = NewDeployment(kind=DeploymentKind.PREVIEW, stack="dev", sha="2" * 40, pr_number=1)
    finish(preview, S.RUNNING, S.SUCCEEDED)
    finish(deploy("3" * 40), S.RUNNING, S.FAILED)
    finish(deploy("4" * 40, stack="prod"), S.RUNNING, S.VERIFYING, S.SUCCEEDED)
    found = store.last_good("dev")
    assert found is not None and found.id == good
    assert store.last_good("dev", before_id=good) is None


def test_log_lines_append_and_page(store: Store) -> None:
    deployment = store.create_deployment(deploy())
    store.append_log(deployment.id, *[f"line {i}" for i in range(5)])
    first = store.read_log(deployment.id, limit=3)
    rest = store.read_log(deployment.id, after=first[-1].seq)
    assert [line.line for line in first + rest] == [f"line {i}" for i in range(5)]
    with pytest.raises(sqlite3.IntegrityError):
        store.append_log(999, "no such deployment")


def test_many_threads_write_and_read_at_once_with_group_commit(store: Store) -> None:
    threads, per_thread = 8, 150
    errors: list[BaseException] = []

    def work(worker: int) -> None:
        try:
            for n in range(per_thread):
                outcome = store.record_delivery(f"t{worker}-{n}", "push", deployment=deploy())
                assert outcome.deployment is not None
                store.append_log(outcome.deployment.id, f"from {worker}")
                assert store.get_deployment(outcome.deployment.id).sha == "a" * 40
        except BaseException as error:  # reported below
            errors.append(error)

    workers = [threading.Thread(target=work, args=(w,)) for w in range(threads)]
    for thread in workers:
        thread.start()
    for thread in workers:
        thread.join()
    assert errors == []
    assert store.count_deliveries() == threads * per_thread
    transactions, writes = store.write_stats
    assert writes >= 2 * threads * per_thread
    assert transactions < writes, "concurrent writes were grouped into shared commits"


def test_a_failing_write_does_not_undo_the_others_in_its_batch(store: Store) -> None:
    futures = [store.submit(lambda conn: conn.execute("INSERT INTO nope VALUES (1)"))]
    futures += [
        store.submit(lambda conn, i=i: conn.execute("INSERT INTO meta VALUES (?, 'v')", (f"k{i}",)))
        for i in range(20)
    ]
    with pytest.raises(sqlite3.OperationalError):
        futures[0].result()
    for future in futures[1:]:
        future.result()
    assert store.check_writable()


def test_recording_queue_notes_requests_and_picks_up_old_ones(tmp_path: Path) -> None:
    path = tmp_path / "slipway.db"
    with Store.open(path) as store:
        left_over = store.create_deployment(deploy("1" * 40))
        was_running = store.create_deployment(deploy("2" * 40))
        store.set_state(was_running.id, S.RUNNING)
        queue = RecordingQueue(store)
        assert isinstance(queue, DeploymentQueue)
        with pytest.raises(QueueUnavailable):
            queue.submit(left_over.id)  # not started yet
        queue.start()
        assert store.get_deployment(was_running.id).state is S.INTERRUPTED
        fresh = store.create_deployment(deploy("3" * 40))
        queue.submit(fresh.id)
        queue.stop()
        assert queue.recorded == [left_over.id, fresh.id]
        assert store.get_deployment(fresh.id).state is S.QUEUED
        assert queue.depth() == 2  # both still wait: slipway_queue_depth shows them


def test_event_loop_writes_batch_and_a_failure_stays_alone(store: Store) -> None:
    def insert(key: str) -> Callable[[sqlite3.Connection], str]:
        def op(conn: sqlite3.Connection) -> str:
            conn.execute("INSERT INTO meta VALUES (?, 'v')", (key,))
            return key

        return op

    async def main() -> list[object]:
        ops = [insert(f"loop-{i}") for i in range(50)]
        ops.insert(10, insert("loop-3"))  # duplicate key: this one write fails
        # Meanwhile a worker thread writes through the writer thread.
        worker = threading.Thread(
            target=lambda: [store.write(insert(f"thread-{i}")) for i in range(50)]
        )
        worker.start()
        results = await asyncio.gather(
            *(store.write_async(op) for op in ops), return_exceptions=True
        )
        worker.join()
        return results

    results = run_coroutine(main())
    assert isinstance(results[10], sqlite3.IntegrityError)
    assert [r for i, r in enumerate(results) if i != 10] == [f"loop-{i}" for i in range(50)]
    with sqlite3.connect(store.path) as conn:
        keys = {row[0] for row in conn.execute("SELECT key FROM meta")}
    assert {f"loop-{i}" for i in range(50)} | {f"thread-{i}" for i in range(50)} <= keys
