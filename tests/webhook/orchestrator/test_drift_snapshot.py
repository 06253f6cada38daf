"""The engine pre-check's snapshot: every hand change of docs/drift.md changes it (pure).

Each test takes inspect documents of a deployed stack, makes one hand change to them the
way the engine would then show it, and asserts the snapshot comparison names it (so the
check runs a full refresh, which reports it); a restart by the restart policy does not.
"""

from __future__ import annotations

import copy
from typing import Any

from webhook.orchestrator import drift_snapshot as snap

WEB_ID, NET_ID = "c" * 64, "n" * 64
OBJECTS: tuple[dict[str, Any], ...] = (
    {"kind": "container", "id": WEB_ID, "name": "shop-web-1", "image": "sha256:aa",
     "networks": ["shop_default"], "running": True},
    {"kind": "network", "id": NET_ID, "name": "shop_default"},
    {"kind": "volume", "id": "shop_db-data", "name": "shop_db-data"},
    {"kind": "image", "id": "sha256:aashop-web:ctx-1", "name": "shop-web:ctx-1",
     "image": "sha256:aa"},
)  # fmt: skip


def engine() -> dict[str, dict[str, Any]]:
    """Inspect documents of the stack's objects, by `kind id`."""
    return {
        f"container {WEB_ID}": {
            "Id": WEB_ID,
            "Name": "/shop-web-1",
            "Image": "sha256:aa",
            "RestartCount": 0,
            "State": {"Running": True, "Status": "running", "StartedAt": "t0", "Pid": 10},
            "Config": {"Env": ["RELEASE=dev", "PATH=/bin"], "Labels": {"a": "b"}},
            "HostConfig": {"Binds": None, "RestartPolicy": {"Name": "unless-stopped"}},
            "NetworkSettings": {"Networks": {"shop_default": {"NetworkID": NET_ID}}},
            "Mounts": [
                {"Type": "volume", "Name": "shop_db-data", "Destination": "/data", "RW": True}
            ],
        },
        f"network {NET_ID}": {"Id": NET_ID, "Name": "shop_default", "Driver": "bridge"},
        "volume shop_db-data": {"Name": "shop_db-data", "Driver": "local", "CreatedAt": "v0"},
        "image sha256:aashop-web:ctx-1": {"Id": "sha256:aa"},
    }


def prints(docs: dict[str, dict[str, Any] | None]) -> snap.Prints:
    """What `snap.read` makes of the documents (None: the engine answers 404)."""
    made = {"container": snap.container_print, "network": snap.network_print,
            "volume": snap.volume_print, "image": snap.image_print}  # fmt: skip
    return {k: snap.MISSING if doc is None else made[k.split()[0]](doc) for k, doc in docs.items()}


def changed(change) -> list[str]:
    """The differences the snapshot comparison finds after `change` to the engine."""
    before = engine()
    after = copy.deepcopy(before)
    change(after)
    return snap.differences(prints(before), prints(after))


WEB = f"container {WEB_ID}"


def test_untouched_engine_is_the_snapshot_and_agrees_with_the_refresh() -> None:
    assert snap.differences(prints(engine()), prints(engine())) == []
    assert snap.disagreements(OBJECTS, prints(engine())) == []


def test_a_stopped_container_differs() -> None:
    def stop(docs):
        docs[WEB]["State"] = {"Running": False, "Status": "exited", "ExitCode": 0}

    found = changed(stop)
    assert f"{WEB} running: true → false" in found, found


def test_a_removed_container_differs() -> None:
    assert changed(lambda docs: docs.update({WEB: None})) == [f"{WEB} is gone"]


def test_a_container_replaced_by_compose_up_of_an_older_commit_differs() -> None:
    def compose_up(docs):  # the same name, a new container, the old image and labels
        docs[WEB]["Id"] = "d" * 64
        docs[WEB]["Image"] = "sha256:old"
        docs[WEB]["Config"]["Labels"] = {"com.docker.compose.project": "shop"}

    found = changed(compose_up)
    assert any(f.startswith(f"{WEB} id:") for f in found), found
    assert any(f.startswith(f"{WEB} image:") for f in found), found


def test_an_environment_variable_changed_differs() -> None:
    def env(docs):  # recreated by hand under the same name with another RELEASE
        docs[WEB]["Config"]["Env"] = ["RELEASE=by-hand", "PATH=/bin"]

    found = changed(env)
    assert any(f.startswith(f"{WEB} config:") for f in found), found


def test_a_disconnected_network_differs() -> None:
    def disconnect(docs):
        docs[WEB]["NetworkSettings"]["Networks"] = {}

    found = changed(disconnect)
    assert f'{WEB} networks: ["shop_default"] → []' in found, found


def test_a_removed_named_volume_differs_and_so_does_one_made_again() -> None:
    assert changed(lambda docs: docs.update({"volume shop_db-data": None})) == [
        "volume shop_db-data is gone"
    ]
    again = changed(lambda docs: docs["volume shop_db-data"].update(CreatedAt="v1"))
    assert again == ['volume shop_db-data createdat: "v0" → "v1"'], again


def test_a_removed_network_and_a_retagged_image_differ() -> None:
    assert changed(lambda docs: docs.update({f"network {NET_ID}": None})) == [
        f"network {NET_ID} is gone"
    ]
    image = "image sha256:aashop-web:ctx-1"
    assert changed(lambda docs: docs[image].update(Id="sha256:bb")) != []


def test_a_restart_by_the_restart_policy_is_not_a_difference() -> None:
    def restarted(docs):
        docs[WEB]["RestartCount"] = 1
        docs[WEB]["State"].update(StartedAt="t1", Pid=11)

    assert changed(restarted) == []


def test_a_snapshot_that_disagrees_with_the_refresh_is_not_kept() -> None:
    stopped = engine()
    stopped[WEB]["State"] = {"Running": False, "Status": "exited"}
    assert snap.disagreements(OBJECTS, prints(stopped)), "stopped after the refresh read it"
    gone = {**engine(), "volume shop_db-data": None}
    assert snap.disagreements(OBJECTS, prints(gone)) == [
        "volume shop_db-data is not in this engine"
    ]
    assert snap.disagreements(OBJECTS[2:3], prints(engine())), "volumes alone identify nothing"


def test_when_a_full_refresh_is_due() -> None:
    taken = snap.Snapshot("a" * 40, 7, 100.0, OBJECTS, prints(engine()))
    assert snap.why_full(taken, "a" * 40, 7, 200.0, 3600) is None
    assert "0" in (snap.why_full(taken, "a" * 40, 7, 200.0, 0) or "")
    assert snap.why_full(None, "a" * 40, 7, 200.0, 3600) is not None
    assert "commit" in (snap.why_full(taken, "b" * 40, 7, 200.0, 3600) or "")
    assert "deployment 8" in (snap.why_full(taken, "a" * 40, 8, 200.0, 3600) or "")
    assert "older" in (snap.why_full(taken, "a" * 40, 7, 3700.0, 3600) or "")
