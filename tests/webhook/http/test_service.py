"""The service over real HTTP with real GitHub payloads: routing, recording, the deploy API."""

from __future__ import annotations

import copy
from typing import Any

from tests.support.queue_double import FakeQueue
from tests.support.service import BRANCH, Service, ServiceFactory
from webhook.store import DeliveryStatus
from webhook.store.states import DeploymentKind, DeploymentState


def test_ping_answers_200_and_is_recorded(
    service: Service, github_examples: dict[str, list[dict[str, Any]]]
) -> None:
    for index, example in enumerate(github_examples["ping"]):
        response = service.deliver("ping", example, delivery=f"ping-{index}")
        assert response.status_code == 200, response.text
        assert response.json()["status"] == "pong"
    assert service.store.count_deliveries() == len(github_examples["ping"])
    assert service.store.get_delivery("ping-0").status == DeliveryStatus.PROCESSED
    assert service.queue.submitted == []


def test_push_to_deploy_branch_queues_a_deployment(
    service: Service, push_example: dict[str, Any]
) -> None:
    response = service.deliver("push", push_example, delivery="push-1")
    assert response.status_code == 202, response.text
    body = response.json()
    deployment = service.store.get_deployment(body["id"])
    assert body["url"] == f"/deployments/{deployment.id}"
    assert response.headers["location"] == body["url"]
    assert body["duplicate"] is False
    assert deployment.kind is DeploymentKind.DEPLOY
    assert deployment.sha == push_example["after"]
    assert deployment.ref == f"refs/heads/{BRANCH}"
    assert deployment.state is DeploymentState.QUEUED
    assert deployment.delivery_id == "push-1"
    assert service.queue.submitted == [deployment.id]
    delivery = service.store.get_delivery("push-1")
    assert delivery is not None and delivery.deployment_id == deployment.id


def test_events_about_another_repository_trigger_nothing(
    start_service: ServiceFactory, push_example: dict[str, Any], pr_examples: dict[str, Any]
) -> None:
    own = push_example["repository"]["full_name"]
    service = start_service(github_repository="someone-else/other-app")
    for event, payload in (("push", push_example), ("pull_request", pr_examples["opened"])):
        response = service.deliver(event, payload)
        assert response.status_code == 200, response.text
        assert response.json()["status"] == "ignored"
        assert (
            own in response.json()["reason"]
            and "someone-else/other-app" in response.json()["reason"]
        )
    assert service.queue.submitted == []
    # The same repository, named by its clone URL in another case, is deployed.
    same = start_service(repo_url=f"https://github.com/{own.upper()}.git")
    assert same.deliver("push", push_example).status_code == 202


def test_form_encoded_delivery_is_accepted(service: Service, push_example: dict[str, Any]) -> None:
    response = service.deliver("push", push_example, form=True)
    assert response.status_code == 202, response.text
    assert service.store.get_deployment(response.json()["id"]).sha == push_example["after"]


def test_pushes_that_do_not_deploy_are_ignored_with_a_reason(
    service: Service, github_examples: dict[str, list[dict[str, Any]]]
) -> None:
    others = [p for p in github_examples["push"] if p["ref"] != f"refs/heads/{BRANCH}"]
    assert others, "the examples have tag pushes"
    for index, example in enumerate(others):
        response = service.deliver("push", example, delivery=f"tag-{index}")
        assert response.status_code == 200, response.text
        assert response.json()["status"] == "ignored"
        assert "refs/tags/" in response.json()["reason"]
    assert service.queue.submitted == []
    assert service.store.list_deployments() == []
    assert service.store.get_delivery("tag-0").status == DeliveryStatus.IGNORED


def test_deleted_deploy_branch_is_ignored(service: Service, push_example: dict[str, Any]) -> None:
    deleted = {**push_example, "deleted": True, "after": "0" * 40}
    response = service.deliver("push", deleted)
    assert response.status_code == 200
    assert "deleted" in response.json()["reason"]


def test_pull_request_actions_that_get_a_preview(
    service: Service, pr_examples: dict[str, dict[str, Any]]
) -> None:
    for action in ("opened", "synchronize", "reopened"):
        example = pr_examples[action]
        response = service.deliver("pull_request", example)
        assert response.status_code == 202, (action, response.text)
        deployment = service.store.get_deployment(response.json()["id"])
        assert deployment.kind is DeploymentKind.PREVIEW
        assert deployment.pr_number == example["pull_request"]["number"]
        assert deployment.head_repo == example["pull_request"]["head"]["repo"]["full_name"]
        assert deployment.sha == example["pull_request"]["head"]["sha"]
    assert len(service.queue.submitted) == 3


def test_other_pull_request_actions_are_ignored(
    service: Service, pr_examples: dict[str, dict[str, Any]]
) -> None:
    for action in ("closed", "labeled", "assigned", "review_requested"):
        response = service.deliver("pull_request", pr_examples[action])
        assert response.status_code == 200
        assert response.json()["status"] == "ignored"
        assert action in response.json()["reason"]
    assert service.queue.submitted == []


def test_fork_pull_request_never_gets_a_preview(
    service: Service, pr_examples: dict[str, dict[str, Any]]
) -> None:
    fork = copy.deepcopy(pr_examples["opened"])
    fork["pull_request"]["head"]["repo"]["full_name"] = "mallory/Hello-World"
    response = service.deliver("pull_request", fork)
    assert response.status_code == 200
    assert "fork" in response.json()["reason"]
    deleted_fork = copy.deepcopy(pr_examples["opened"])
    deleted_fork["pull_request"]["head"]["repo"] = None
    assert service.deliver("pull_request", deleted_fork).json()["status"] == "ignored"
    assert service.queue.submitted == []


def test_untrusted_author_gets_no_preview(
    service: Service, pr_examples: dict[str, dict[str, Any]]
) -> None:
    for association in ("CONTRIBUTOR", "FIRST_TIME_CONTRIBUTOR", "NONE"):
        payload = copy.deepcopy(pr_examples["synchronize"])
        payload["pull_request"]["author_association"] = association
        response = service.deliver("pull_request", payload)
        assert response.status_code == 200
        assert association in response.json()["reason"]
    assert service.queue.submitted == []


def test_unhandled_event_is_ignored(
    service: Service, github_examples: dict[str, list[dict[str, Any]]]
) -> None:
    response = service.deliver("issues", github_examples["issues"][0])
    assert response.status_code == 200
    assert response.json() == {
        "status": "ignored",
        "reason": "event 'issues' does not trigger anything",
        "duplicate": False,
    }


def test_duplicate_delivery_triggers_nothing(
    service: Service, push_example: dict[str, Any]
) -> None:
    first = service.deliver("push", push_example, delivery="same-id")
    again = service.deliver("push", push_example, delivery="same-id")
    assert first.status_code == 202
    assert again.status_code == 200
    assert again.json()["duplicate"] is True
    assert again.json()["id"] == first.json()["id"]
    assert service.queue.submitted == [first.json()["id"]]
    assert len(service.store.list_deployments()) == 1


def test_refused_handoff_answers_503_and_redelivery_is_processed(
    start_service: ServiceFactory, push_example: dict[str, Any]
) -> None:
    queue = FakeQueue(refuse=True)
    service = start_service(queue=queue)
    refused = service.deliver("push", push_example, delivery="retry-me")
    assert refused.status_code == 503
    failed = service.store.get_deployment(refused.json()["id"])
    assert failed.state is DeploymentState.FAILED
    assert service.store.get_delivery("retry-me").status == DeliveryStatus.FAILED

    queue.refuse = False
    redelivered = service.deliver("push", push_example, delivery="retry-me")
    assert redelivered.status_code == 202
    assert redelivered.json()["id"] != failed.id
    assert queue.submitted == [redelivered.json()["id"]]
    delivery = service.store.get_delivery("retry-me")
    assert delivery.status == DeliveryStatus.PROCESSED and delivery.attempts == 2


# ---- the deploy API ----------------------------------------------------------------------


def test_api_requires_the_bearer_token(service: Service) -> None:
    for method, path in (
        ("POST", "/deployments"),
        ("GET", "/deployments"),
        ("GET", "/deployments/1"),
        ("GET", "/deployments/1/log"),
        ("POST", "/deployments/1/rollback"),
    ):
        body = {"json": {"sha": "abcdef1"}} if method == "POST" else {}  # a GET takes none
        missing = service.client.request(method, path, **body)
        wrong = service.client.request(
            method, path, headers={"Authorization": "Bearer nope"}, **body
        )
        assert missing.status_code == 401, (method, path)
        assert wrong.status_code == 401, (method, path)
        assert missing.headers["www-authenticate"] == "Bearer"
    assert service.store.list_deployments() == []


def test_api_disabled_without_a_token(start_service: ServiceFactory) -> None:
    service = start_service(api_token=None)
    response = service.api("GET", "/deployments")
    assert response.status_code == 401
    assert "SLIPWAY_API_TOKEN" in response.json()["detail"]


def test_post_deployment_then_read_it_back(service: Service) -> None:
    sha = "a" * 40
    response = service.api(
        "POST", "/deployments", json={"sha": sha, "ref": "refs/heads/main", "reason": "ci"}
    )
    assert response.status_code == 202, response.text
    body = response.json()
    assert body["state"] == "queued" and body["sha"] == sha and body["reason"] == "ci"
    assert response.headers["location"] == body["url"] == f"/deployments/{body['id']}"
    assert service.queue.submitted == [body["id"]]

    detail = service.api("GET", body["url"]).json()
    assert detail["kind"] == "deploy"
    assert [h["state"] for h in detail["history"]] == ["queued"]

    service.store.append_log(body["id"], "line one", "line two", "line three")
    log = service.api("GET", f"{body['url']}/log", params={"limit": 2}).json()
    assert [entry["line"] for entry in log["lines"]] == ["line one", "line two"]
    rest = service.api("GET", f"{body['url']}/log", params={"after": log["last_seq"]}).json()
    assert [entry["line"] for entry in rest["lines"]] == ["line three"]


def test_post_deployment_validates_the_body(service: Service) -> None:
    for body in ({}, {"sha": "not-hex!"}, {"sha": "abc"}, {"sha": "A" * 40}):
        assert service.api("POST", "/deployments", json=body).status_code == 422, body
    assert service.store.list_deployments() == []


def test_idempotency_key_makes_retries_safe(service: Service) -> None:
    headers = {"Idempotency-Key": "run-42-attempt"}
    first = service.api("POST", "/deployments", json={"sha": "b" * 40}, headers=headers)
    retry = service.api("POST", "/deployments", json={"sha": "b" * 40}, headers=headers)
    assert first.status_code == 202 and retry.status_code == 200
    assert retry.json()["id"] == first.json()["id"] and retry.json()["duplicate"] is True
    assert service.queue.submitted == [first.json()["id"]]
    reused = service.api("POST", "/deployments", json={"sha": "c" * 40}, headers=headers)
    assert reused.status_code == 409 and "new key" in reused.json()["detail"]
    assert len(service.store.list_deployments()) == 1


def test_list_deployments_pages_newest_first(service: Service) -> None:
    ids = [
        service.api("POST", "/deployments", json={"sha": f"{i:07x}"}).json()["id"] for i in range(5)
    ]
    page = service.api("GET", "/deployments", params={"limit": 2}).json()
    assert [d["id"] for d in page["items"]] == ids[:-3:-1]
    seen = [d["id"] for d in page["items"]]
    while page["next"]:
        page = service.api("GET", page["next"]).json()
        seen += [d["id"] for d in page["items"]]
    assert seen == ids[::-1]


def test_unknown_deployment_is_404(service: Service) -> None:
    assert service.api("GET", "/deployments/999").status_code == 404
    assert service.api("GET", "/deployments/999/log").status_code == 404
    assert service.api("POST", "/deployments/999/rollback").status_code == 404


def test_rollback_redeploys_the_last_good_commit(service: Service) -> None:
    store = service.store
    good = service.api("POST", "/deployments", json={"sha": "1" * 40}).json()["id"]
    for state in (DeploymentState.RUNNING, DeploymentState.VERIFYING, DeploymentState.SUCCEEDED):
        store.set_state(good, state)
    bad = service.api("POST", "/deployments", json={"sha": "2" * 40}).json()["id"]

    response = service.api("POST", f"/deployments/{bad}/rollback", json={"reason": "broken"})
    assert response.status_code == 202, response.text
    rollback = store.get_deployment(response.json()["id"])
    assert rollback.kind is DeploymentKind.ROLLBACK
    assert rollback.sha == "1" * 40
    assert rollback.rollback_of == bad
    assert rollback.reason == "broken"
    assert service.queue.submitted[-1] == rollback.id


def test_rollback_without_an_earlier_good_deployment_is_409(service: Service) -> None:
    only = service.api("POST", "/deployments", json={"sha": "3" * 40}).json()["id"]
    response = service.api("POST", f"/deployments/{only}/rollback")
    assert response.status_code == 409
    assert "nothing to roll back to" in response.json()["detail"]


# ---- health and metrics ------------------------------------------------------------------


def test_health_readiness_and_metrics(service: Service, push_example: dict[str, Any]) -> None:
    assert service.client.get("/healthz").json() == {"status": "ok"}
    ready = service.client.get("/readyz")
    assert ready.status_code == 200 and ready.json()["status"] == "ready"
    service.deliver("push", push_example)
    service.deliver("push", push_example, secret="wrong-secret-0123456789")
    service.api("GET", "/deployments")
    text = service.client.get("/metrics").text
    assert 'slipway_http_requests_total{route="/hooks/github",status="202"} 1.0' in text
    assert 'slipway_http_requests_total{route="/hooks/github",status="401"} 1.0' in text
    assert 'slipway_http_requests_total{route="/deployments",status="200"} 1.0' in text
    assert "slipway_signature_failures_total 1.0" in text
    assert 'slipway_deliveries_total{event="push",outcome="queued"} 1.0' in text
    assert "slipway_queue_depth 1.0" in text


def test_readyz_is_503_when_the_database_cannot_be_written(service: Service) -> None:
    service.store.close()
    response = service.client.get("/readyz")
    assert response.status_code == 503
    assert "not writable" in response.json()["error"]


def test_hook_route_only_takes_post(service: Service) -> None:
    assert service.client.get("/hooks/github").status_code == 405
