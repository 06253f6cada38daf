"""Issue 32 finding 11, the smaller items: the page's cookie behind an https proxy, no
redirect built from the Host header, private JSON, no rollback of a preview."""

from __future__ import annotations

import pytest

from tests.support.service import TOKEN, Service, ServiceFactory
from webhook.store import NewDeployment
from webhook.store.states import DeploymentKind, DeploymentState

SHA = "a" * 40


def login_cookie(service: Service, headers: dict[str, str]) -> str:
    answer = service.client.post("/ui/login", data={"token": TOKEN, "next": "/ui"}, headers=headers)
    assert answer.status_code == 303, answer.text
    return answer.headers["set-cookie"]


def test_the_cookie_is_secure_behind_a_trusted_https_proxy(start_service: ServiceFactory) -> None:
    behind_proxy = start_service(trusted_proxies=["127.0.0.1"])
    cookie = login_cookie(behind_proxy, {"X-Forwarded-Proto": "https"})
    assert "secure" in cookie.lower().split("; "), cookie


def test_an_untrusted_peer_cannot_claim_https(service: Service) -> None:
    """Without SLIPWAY_TRUSTED_PROXIES the header is anyone's: ignored (plain http here)."""
    cookie = login_cookie(service, {"X-Forwarded-Proto": "https"})
    assert "secure" not in cookie.lower().split("; "), cookie


def test_a_trailing_slash_is_not_redirected_to_the_host_header(service: Service) -> None:
    answer = service.api("GET", "/deployments/", headers={"Host": "evil.example"})
    assert answer.status_code == 404, (answer.status_code, answer.headers)
    assert "evil.example" not in answer.headers.get("location", "")


@pytest.mark.parametrize(
    "path", ["/deployments", "/deployments/1", "/deployments/1/log", "/readyz", "/healthz"]
)
def test_json_answers_are_not_cached_nor_sniffed(service: Service, path: str) -> None:
    service.store.create_deployment(NewDeployment(DeploymentKind.DEPLOY, "dev", SHA))
    answer = service.api("GET", path)
    assert answer.status_code == 200, answer.text
    assert answer.headers["cache-control"] == "no-store"
    assert answer.headers["x-content-type-options"] == "nosniff"


def test_the_hook_answer_is_not_cached_nor_sniffed(service: Service) -> None:
    answer = service.deliver("ping", {"zen": "Keep it logically awesome.", "hook_id": 1})
    assert answer.status_code == 200, answer.text
    assert answer.headers["cache-control"] == "no-store"
    assert answer.headers["x-content-type-options"] == "nosniff"


def test_a_preview_is_not_rolled_back(service: Service) -> None:
    """The page offers no rollback of a preview; the API refuses it with the reason."""
    good = service.store.create_deployment(NewDeployment(DeploymentKind.DEPLOY, "dev", SHA))
    for state in (DeploymentState.RUNNING, DeploymentState.SUCCEEDED):
        service.store.set_state(good.id, state, "test")
    preview = service.store.create_deployment(
        NewDeployment(DeploymentKind.PREVIEW, "dev", "b" * 40, ref="refs/pull/7/head")
    )
    answer = service.api("POST", f"/deployments/{preview.id}/rollback")
    assert answer.status_code == 409, answer.text
    assert f"deployment {preview.id} is a preview" in answer.json()["detail"]
    assert [d.kind for d in service.store.list_deployments()] == ["preview", "deploy"]
