"""Finding 4 of issue 32: a signed body seen before is a replay whatever its delivery id."""

from __future__ import annotations

import copy
from typing import Any

from tests.support.service import Service


def test_same_signed_push_with_a_new_delivery_id_is_not_deployed_again(
    service: Service, push_example: dict[str, Any]
) -> None:
    first = service.deliver("push", push_example, delivery="first-id")
    assert first.status_code == 202, first.text
    replay = service.deliver("push", push_example, delivery="second-id")
    assert replay.status_code == 200, replay.text
    assert replay.json()["status"] == "ignored"
    assert "first-id" in replay.json()["reason"]
    assert len(service.store.list_deployments()) == 1
    assert service.queue.submitted == [first.json()["id"]]
    record = service.store.get_delivery("second-id")
    assert record is not None and "replay" in record.detail and "first-id" in record.detail


def test_a_new_push_of_the_same_commit_is_not_a_replay(
    service: Service, push_example: dict[str, Any]
) -> None:
    assert service.deliver("push", push_example, delivery="one").status_code == 202
    other = copy.deepcopy(push_example)
    other["head_commit"]["message"] = "another push"  # a different signed body
    assert service.deliver("push", other, delivery="two").status_code == 202


def test_same_delivery_id_redelivered_is_still_a_duplicate(
    service: Service, push_example: dict[str, Any]
) -> None:
    assert service.deliver("push", push_example, delivery="same").status_code == 202
    again = service.deliver("push", push_example, delivery="same")
    assert again.status_code == 200 and again.json()["duplicate"] is True


def test_replay_of_a_failed_delivery_is_processed(
    service: Service, push_example: dict[str, Any]
) -> None:
    service.queue.refuse = True  # type: ignore[attr-defined]
    assert service.deliver("push", push_example, delivery="refused").status_code == 503
    service.queue.refuse = False  # type: ignore[attr-defined]
    retried = service.deliver("push", push_example, delivery="new-id")
    assert retried.status_code == 202, retried.text
