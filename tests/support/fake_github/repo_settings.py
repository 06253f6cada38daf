"""Actions secrets, environments (with their secrets) and webhooks of the fake repository.

Like GitHub, each scope (the repository, every environment) has its own Curve25519 key pair;
clients fetch the public key, seal the value with libsodium's sealed box and send only the
ciphertext. The fake keeps the private keys, so `plaintext()` tells what really arrived.
Webhook secrets are answered as `********`, as GitHub does; `hooks` keeps the real ones.
"""

from __future__ import annotations

import base64
import itertools
from dataclasses import dataclass, field
from typing import Any

from nacl.public import PrivateKey, SealedBox

from tests.support.fake_github.answers import Answer, invalid, not_found, now

REPO_SCOPE = ""  # the scope key of repository-wide secrets; environments use their name


@dataclass
class Scope:
    """A secrets scope: its key pair and the secrets stored in it (name → record)."""

    key_id: str
    private_key: PrivateKey = field(default_factory=PrivateKey.generate, repr=False)
    secrets: dict[str, dict[str, str]] = field(default_factory=dict)

    def public_key(self) -> dict[str, str]:
        key = base64.b64encode(bytes(self.private_key.public_key)).decode()
        return {"key_id": self.key_id, "key": key}


class RepoSettings:
    """Secrets, environments and hooks; mixed into RepoState (which routes requests here)."""

    def __init__(self) -> None:
        self._key_ids = itertools.count(3_380_204_578_043_523_001)
        self._hook_ids = itertools.count(400_000_001)
        self.scopes: dict[str, Scope] = {REPO_SCOPE: self._new_scope()}
        self.environments: dict[str, dict[str, Any]] = {}
        self.hooks: dict[int, dict[str, Any]] = {}  # id → {active, events, config (real secret)}

    def _new_scope(self) -> Scope:
        return Scope(key_id=str(next(self._key_ids)))

    # -- helpers the tests use ----------------------------------------------------------------

    def plaintext(self, name: str, environment: str = REPO_SCOPE) -> str:
        """Open the sealed `encrypted_value` of secret `name` with the scope's private key."""
        scope = self.scopes[environment]
        sealed = base64.b64decode(scope.secrets[name]["encrypted_value"])
        return SealedBox(scope.private_key).decrypt(sealed).decode()

    def secret_names(self, environment: str = REPO_SCOPE) -> set[str]:
        scope = self.scopes.get(environment)
        return set(scope.secrets) if scope else set()

    # -- Actions secrets ----------------------------------------------------------------------

    def _get_public_key(self, scope: str) -> Answer:
        return Answer(200, self.scopes[scope].public_key())

    def _get_secret(self, scope: str, name: str) -> Answer:
        found = self.scopes[scope].secrets.get(name.upper())
        if found is None:
            return not_found()
        return Answer(200, {k: found[k] for k in ("name", "created_at", "updated_at")})

    def _put_secret(self, scope: str, name: str, body: dict[str, Any]) -> Answer:
        value, key_id = (body or {}).get("encrypted_value"), (body or {}).get("key_id")
        if not isinstance(value, str) or not isinstance(key_id, str):
            return invalid("Invalid request: encrypted_value and key_id are required")
        if key_id != self.scopes[scope].key_id:
            return invalid(f"Invalid request: key_id {key_id} is not this scope's public key")
        try:
            base64.b64decode(value, validate=True)
        except ValueError:
            return invalid("Invalid request: encrypted_value is not base64")
        secrets = self.scopes[scope].secrets
        name = name.upper()
        old = secrets.get(name)
        stamp = now()
        created = old["created_at"] if old else stamp
        secrets[name] = {"name": name, "created_at": created, "updated_at": stamp,
                         "encrypted_value": value, "key_id": key_id}  # fmt: skip
        return Answer(204 if old else 201, None if old else {})

    def _delete_secret(self, scope: str, name: str) -> Answer:
        if self.scopes[scope].secrets.pop(name.upper(), None) is None:
            return not_found()
        return Answer(204)

    def get_public_key(self, **_: Any) -> Answer:
        return self._get_public_key(REPO_SCOPE)

    def get_secret(self, name: str, **_: Any) -> Answer:
        return self._get_secret(REPO_SCOPE, name)

    def put_secret(self, name: str, body: Any, **_: Any) -> Answer:
        return self._put_secret(REPO_SCOPE, name, body)

    def delete_secret(self, name: str, **_: Any) -> Answer:
        return self._delete_secret(REPO_SCOPE, name)

    def get_env_public_key(self, env: str, **_: Any) -> Answer:
        return self._get_public_key(env) if env in self.environments else not_found()

    def get_env_secret(self, env: str, name: str, **_: Any) -> Answer:
        return self._get_secret(env, name) if env in self.environments else not_found()

    def put_env_secret(self, env: str, name: str, body: Any, **_: Any) -> Answer:
        return self._put_secret(env, name, body) if env in self.environments else not_found()

    def delete_env_secret(self, env: str, name: str, **_: Any) -> Answer:
        return self._delete_secret(env, name) if env in self.environments else not_found()

    # -- environments -------------------------------------------------------------------------

    def get_environment(self, env: str, **_: Any) -> Answer:
        found = self.environments.get(env)
        return Answer(200, found) if found else not_found()

    def put_environment(self, env: str, body: Any, **_: Any) -> Answer:
        body = body or {}
        old = self.environments.get(env)
        stamp = now()
        url = f"{self.api_url}/repos/{self.owner}/{self.repo}/environments/{env}"
        self.environments[env] = {
            "id": old["id"] if old else 161_088_068 + len(self.environments), "name": env,
            "node_id": f"EN_{env}", "url": url, "created_at": old["created_at"] if old else stamp,
            "updated_at": stamp, "can_admins_bypass": body.get("can_admins_bypass", True),
            "protection_rules": _protection_rules(body),
            "deployment_branch_policy": body.get("deployment_branch_policy"),
        }  # fmt: skip
        self.scopes.setdefault(env, self._new_scope())
        return Answer(200, self.environments[env])

    def delete_environment(self, env: str, **_: Any) -> Answer:
        if self.environments.pop(env, None) is None:
            return not_found()
        self.scopes.pop(env, None)  # its secrets go with it, as on GitHub
        return Answer(204)

    # -- webhooks -----------------------------------------------------------------------------

    def _hook_json(self, hook_id: int) -> dict[str, Any]:
        hook = self.hooks[hook_id]
        config = dict(hook["config"])
        if config.get("secret"):
            config["secret"] = "********"
        url = f"{self.api_url}/repos/{self.owner}/{self.repo}/hooks/{hook_id}"
        return {
            "type": "Repository", "id": hook_id, "name": "web", "active": hook["active"],
            "events": hook["events"], "config": config, "created_at": hook["created_at"],
            "updated_at": hook["updated_at"], "url": url, "test_url": f"{url}/test",
            "ping_url": f"{url}/pings", "deliveries_url": f"{url}/deliveries",
            "last_response": {"code": None, "status": "unused", "message": None},
        }  # fmt: skip

    def _hook_problem(self, hook: dict[str, Any]) -> str | None:
        if not isinstance(hook.get("config"), dict) or not hook["config"].get("url"):
            return "Validation Failed: config.url is required"
        if not isinstance(hook.get("events"), list) or not hook["events"]:
            return "Validation Failed: events must be a non-empty list"
        return None

    def create_hook(self, body: Any, **_: Any) -> Answer:
        body = body or {}
        stamp = now()
        hook = {"active": body.get("active", True), "events": body.get("events") or ["push"],
                "config": body.get("config"), "created_at": stamp, "updated_at": stamp}  # fmt: skip
        problem = self._hook_problem(hook)
        if problem:
            return invalid(problem)
        hook_id = next(self._hook_ids)
        self.hooks[hook_id] = hook
        return Answer(201, self._hook_json(hook_id))

    def get_hook(self, id: str, **_: Any) -> Answer:
        return Answer(200, self._hook_json(int(id))) if int(id) in self.hooks else not_found()

    def edit_hook(self, id: str, body: Any, **_: Any) -> Answer:
        hook = self.hooks.get(int(id))
        if hook is None:
            return not_found()
        edited = {**hook, **{k: v for k, v in (body or {}).items() if k in ("active", "events")}}
        if "config" in (body or {}):
            edited["config"] = body["config"]
        problem = self._hook_problem(edited)
        if problem:
            return invalid(problem)
        self.hooks[int(id)] = {**edited, "updated_at": now()}
        return Answer(200, self._hook_json(int(id)))

    def delete_hook(self, id: str, **_: Any) -> Answer:
        return Answer(204) if self.hooks.pop(int(id), None) else not_found()


def _protection_rules(body: dict[str, Any]) -> list[dict[str, Any]]:
    """An environment's `protection_rules` as GitHub lists them for a PUT body."""
    rules: list[dict[str, Any]] = []
    if body.get("wait_timer"):
        rules.append({"id": 1, "type": "wait_timer", "wait_timer": body["wait_timer"]})
    if body.get("reviewers"):
        reviewers = [{"type": r["type"], "reviewer": {"id": r["id"]}} for r in body["reviewers"]]
        self_review = bool(body.get("prevent_self_review"))
        rules.append({"id": 2, "type": "required_reviewers", "reviewers": reviewers,
                      "prevent_self_review": self_review})  # fmt: skip
    return rules
