"""Engine events → per-resource changes, as the PR comment needs them."""

from __future__ import annotations

import threading

from tests.support.engine_events import (
    CONTAINER,
    IMAGE,
    NETWORK,
    diagnostic,
    op_failed,
    step,
    typical_preview,
    urn,
)
from webhook.feedback.preview_events import PreviewCollector, resource_name


def collect(events) -> PreviewCollector:
    collector = PreviewCollector()
    for event in events:
        collector(event)
    return collector


def test_a_typical_preview_becomes_one_change_per_resource() -> None:
    collector = collect(typical_preview())
    summary = [(c.op, c.type, c.name, c.changed, c.replace_keys) for c in collector.changes]
    assert summary == [
        ("create", NETWORK, "backend", (), ()),
        ("update", CONTAINER, "web", ("envs[0]", "labels"), ()),
        ("replace", CONTAINER, "db", ("image",), ("image",)),
        ("delete", IMAGE, "old-worker", (), ()),
    ]
    assert collector.errors == ()
    assert not collector.failed


def test_replacement_steps_in_any_order_stay_one_replace() -> None:
    events = [
        step(1, "delete-replaced", CONTAINER, "db"),
        step(2, "replace", CONTAINER, "db", diffs=["image"], keys=["image"]),
        step(3, "create-replacement", CONTAINER, "db", diffs=["ports"]),
    ]
    (change,) = collect(events).changes
    assert change.op == "replace"
    assert change.changed == ("image", "ports")


def test_diffs_are_used_when_there_is_no_detailed_diff() -> None:
    (change,) = collect([step(1, "update", CONTAINER, "web", diffs=["image", "envs"])]).changes
    assert change.changed == ("envs", "image")


def test_errors_are_collected_without_colours_and_mark_the_preview_failed() -> None:
    events = [
        step(1, "create", CONTAINER, "web"),
        diagnostic(
            2, "\x1b[31merror: \x1b[0mimage not found<{%reset%}>", urn_=urn(CONTAINER, "web")
        ),
        op_failed(3, "create", CONTAINER, "web"),
        op_failed(4, "update", CONTAINER, "api"),
    ]
    collector = collect(events)
    assert collector.failed
    assert collector.errors == ("web: error: image not found", "api: update failed")


def test_events_from_several_threads_are_all_kept() -> None:
    collector = PreviewCollector()
    threads = [
        threading.Thread(
            target=lambda n=n: [
                collector(step(i, "create", CONTAINER, f"c{n}-{i}")) for i in range(50)
            ]
        )
        for n in range(4)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(collector.changes) == 200


def test_resource_name_is_the_last_urn_segment() -> None:
    assert resource_name(urn(CONTAINER, "web::x")) == "x"
    assert resource_name("not-a-urn") == "not-a-urn"
