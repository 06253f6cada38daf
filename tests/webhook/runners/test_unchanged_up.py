"""`make up`'s unchanged path (webhook/runners/unchanged_up.py): when it may skip `up`.

The pure comparison here; the real runs of scripts/up.sh in test_unchanged_up_real.py.
"""

from __future__ import annotations

import copy

import pytest

from webhook.runners import unchanged_up

CONTAINER = {
    "name": "p-web-1", "id": "c1", "service": "web", "number": "1", "image_id": "sha256:a",
    "image_tags": ["p-web:ctx-1"], "status": "running", "exit_code": 0, "restart_count": 0,
    "started_at": "t0", "health": "healthy", "config_hash": "h1",
}  # fmt: skip
PROOF = {
    "format": unchanged_up.FORMAT,
    "fingerprint": "f1",
    "parts": {"program": "p1", "compose model": "m1"},
    "state": "s1",
    "containers": {"p-web-1": CONTAINER},
}


def _changed(path: list[str], value) -> dict:
    proof = copy.deepcopy(PROOF)
    target = proof
    for key in path[:-1]:
        target = target[key]
    target[path[-1]] = value
    return proof


def test_the_same_proof_vouches() -> None:
    assert unchanged_up.compare(PROOF, copy.deepcopy(PROOF)) == []


@pytest.mark.parametrize(
    ("path", "value", "said"),
    [
        (["fingerprint"], "f2", "the rendered stack changed"),
        (["state"], "s2", "state was written since"),
        (["containers", "p-web-1", "status"], "exited", "p-web-1 is exited, was running"),
        (["containers", "p-web-1", "id"], "c2", "p-web-1 was recreated"),
        (["containers", "p-web-1", "restart_count"], 1, "p-web-1 restarted since"),
        (["containers", "p-web-1", "config_hash"], "h2", "config changed in place"),
        (["containers", "p-web-1", "health"], "unhealthy", "reports unhealthy"),
        (["containers"], {}, "p-web-1 is missing"),
    ],
)
def test_each_difference_runs_the_full_up_and_says_why(path, value, said) -> None:
    problems = unchanged_up.compare(PROOF, _changed(path, value))
    assert problems and said in "; ".join(problems), problems


def test_a_proof_of_another_format_does_not_vouch() -> None:
    problems = unchanged_up.compare(_changed(["format"], "old"), PROOF)
    assert problems == [f"the proof's format is 'old', not {unchanged_up.FORMAT}"]


def test_a_changed_part_is_named() -> None:
    current = _changed(["fingerprint"], "f2")
    current["parts"]["program"] = "p2"
    assert unchanged_up.compare(PROOF, current) == ["the rendered stack changed: program"]


def test_only_a_local_file_backend_can_vouch(tmp_path) -> None:
    with pytest.raises(unchanged_up.Doubt, match="not a local folder"):
        unchanged_up.backend_dir({"PULUMI_BACKEND_URL": "s3://bucket"})
    with pytest.raises(unchanged_up.Doubt, match="Pulumi Cloud"):
        unchanged_up.backend_dir({})
    assert unchanged_up.backend_dir({"PULUMI_BACKEND_URL": f"file://{tmp_path}"}) == tmp_path


def test_force_and_a_missing_proof_run_the_full_up(tmp_path) -> None:
    said: list[str] = []
    env = {"PULUMI_BACKEND_URL": f"file://{tmp_path}"}
    assert unchanged_up.check(tmp_path, "dev", env, said.append) == unchanged_up.RUN_UP
    assert said == ["make up: full up: no healthy `make up` of this stack is recorded here"]
    proof = unchanged_up.proof_path(tmp_path, "dev")
    proof.parent.mkdir(parents=True)
    proof.write_text("{}")
    assert unchanged_up.check(tmp_path, "dev", {**env, "FORCE": "1"}, said.append) == 10
    assert said[-1] == "make up: full up: FORCE is set"
    assert not proof.exists(), "a doubted proof is forgotten"
