"""The client says why a deployment failed: the `failed` note of its history."""

from __future__ import annotations

from deploy_client.api import parse_deployment


def test_the_failed_note_of_the_history_is_the_failure() -> None:
    body = {
        "id": 7,
        "state": "rolled_back",
        "history": [
            {"state": "running", "note": "deploying abc"},
            {"state": "failed", "note": "service p_api failed: Swarm rolled it back (x)"},
            {"state": "rolling_back", "note": "rolling back to def"},
            {"state": "rolled_back", "note": "def is deployed again and healthy (full up)"},
        ],
    }
    assert parse_deployment(body).failure == "service p_api failed: Swarm rolled it back (x)"
    assert parse_deployment({"id": 8, "state": "succeeded"}).failure == ""
