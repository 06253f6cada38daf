"""`POST /hooks/github` as a plain ASGI endpoint: the hot path, kept free of framework layers.

Order of checks, cheapest first, nothing parsed before the signature is verified:
size (Content-Length, then while reading) → signature → rate limit → content type →
headers → JSON → route → record (durable) → queue → answer.
"""

from __future__ import annotations

import hashlib
import logging
import re
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qs

import orjson

from webhook.http.callers import client_address
from webhook.http.events import MalformedPayload, route_event
from webhook.http.headers import DEFAULTS
from webhook.http.limits import MAX_LENGTH_DIGITS, BodyTooLarge
from webhook.http.ratelimit import RateLimiter
from webhook.http.signature import signature_problem
from webhook.http.unwritable import unwritable_reason
from webhook.metrics import Metrics
from webhook.queue import DeploymentQueue, hand_off
from webhook.settings import Settings
from webhook.store import DeliveryStatus, Store

log = logging.getLogger("slipway.webhook")

JSON_TYPE = "application/json"
FORM_TYPE = "application/x-www-form-urlencoded"
# No ":": the store keeps the API's (`api:`) and the poll's (`poll:`) records in the same
# table, and a GitHub id (a GUID) must never name one of them.
DELIVERY_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,127}")
EVENT_NAME = re.compile(r"[a-z_]{1,64}")


@dataclass(frozen=True)
class Answer:
    status: int
    body: dict[str, Any]
    headers: tuple[tuple[bytes, bytes], ...] = ()


class ClientGone(Exception):
    pass


async def read_body(receive: Any, limit: int) -> bytes:
    """The whole request body; BodyTooLarge as soon as it passes `limit` bytes."""
    chunks: list[bytes] = []
    size = 0
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            raise ClientGone
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > limit:
            raise BodyTooLarge
        chunks.append(chunk)
        if not message.get("more_body", False):
            return chunks[0] if len(chunks) == 1 else b"".join(chunks)


def _error(status: int, message: str, **extra: Any) -> Answer:
    return Answer(status, {"error": message, **extra})


def _too_large(message: str) -> Answer:
    """413; the connection closes, so the rest of the body is never read."""
    return Answer(413, {"error": message}, ((b"connection", b"close"),))


def decode_payload(content_type: str, body: bytes) -> dict[str, Any]:
    """The JSON object in a JSON or form-encoded (`payload=`) body; ValueError if malformed."""
    if content_type == FORM_TYPE:
        fields = parse_qs(body.decode("utf-8"), keep_blank_values=True, strict_parsing=True)
        values = fields.get("payload")
        if not values or len(values) != 1:
            raise ValueError("form body must have exactly one 'payload' field")
        text: str | bytes = values[0]
    else:
        text = body
    payload = orjson.loads(text)
    if not isinstance(payload, dict):
        raise ValueError("payload must be a JSON object")
    return payload


class GitHubHook:
    """The ASGI app behind `POST /hooks/github`."""

    ROUTE = "/hooks/github"

    def __init__(
        self,
        settings: Settings,
        store: Store,
        queue: DeploymentQueue,
        metrics: Metrics,
        limiter: RateLimiter,
    ) -> None:
        self._settings = settings
        self._repository = settings.repository
        self._secret = settings.http.webhook_secret.get_secret_value().encode()
        self._store = store
        self._queue = queue
        self._metrics = metrics
        self._limiter = limiter

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        try:
            answer = await self.handle(scope, receive)
        except ClientGone:
            return
        except Exception:
            self._metrics.count_request(self.ROUTE, 500)
            raise
        self._metrics.count_request(self.ROUTE, answer.status)
        body = orjson.dumps(answer.body)
        headers = [
            (b"content-type", b"application/json"),
            (b"content-length", str(len(body)).encode()),
            *answer.headers,
            *DEFAULTS,  # what DefaultHeaders adds to every other answer
        ]
        await send({"type": "http.response.start", "status": answer.status, "headers": headers})
        await send({"type": "http.response.body", "body": body})

    async def handle(self, scope: Any, receive: Any) -> Answer:
        headers: dict[bytes, bytes] = dict(scope["headers"])
        limit = self._settings.http.max_body_bytes
        length = headers.get(b"content-length")
        if length is not None and (
            not length.isdigit() or len(length) > MAX_LENGTH_DIGITS or int(length) > limit
        ):
            return _too_large(f"body larger than {limit} bytes (or bad Content-Length)")
        try:
            body = await read_body(receive, limit)
        except BodyTooLarge:
            return _too_large(f"body larger than {limit} bytes")

        signature = headers.get(b"x-hub-signature-256")
        problem = signature_problem(
            self._secret, body, signature.decode("latin-1") if signature is not None else None
        )
        if problem is not None:
            self._metrics.signature_failures.inc()
            log.debug("signature refused: %s", problem)
            return _error(401, problem)

        peer = scope.get("client")
        forwarded = headers.get(b"x-forwarded-for")
        client = client_address(
            peer[0] if peer else None,
            forwarded.decode("latin-1") if forwarded else None,
            self._settings.http.proxy_networks,
        )
        retry_after = self._limiter.retry_after(client)
        if retry_after is not None:
            self._metrics.rate_limited.labels(self.ROUTE).inc()
            return Answer(
                429,
                {"error": f"too many deliveries from {client}; retry in {retry_after} s"},
                ((b"retry-after", str(retry_after).encode()),),
            )
        return await self._process(headers, body)

    async def _process(self, headers: dict[bytes, bytes], body: bytes) -> Answer:
        raw_type = headers.get(b"content-type", b"").split(b";")[0].strip().lower()
        content_type = raw_type.decode("latin-1")  # any byte: compared, never trusted
        if content_type not in (JSON_TYPE, FORM_TYPE):
            return _error(415, f"content type must be {JSON_TYPE} or {FORM_TYPE}")
        event = headers.get(b"x-github-event", b"").decode("latin-1")
        delivery_id = headers.get(b"x-github-delivery", b"").decode("latin-1")
        if not EVENT_NAME.fullmatch(event):
            return _error(400, "missing or invalid X-GitHub-Event header")
        if not DELIVERY_ID.fullmatch(delivery_id):
            return _error(400, "missing or invalid X-GitHub-Delivery header")
        try:
            payload = decode_payload(content_type, body)
            decision = route_event(
                event,
                payload,
                stack=self._settings.deploy.stack,
                branch=self._settings.deploy.branch,
                repository=self._repository,
            )
        except (ValueError, MalformedPayload) as error:
            return _error(400, f"malformed {event} payload: {error}", delivery=delivery_id)

        status = (
            DeliveryStatus.IGNORED if decision.outcome == "ignored" else DeliveryStatus.PROCESSED
        )
        action = payload.get("action") if isinstance(payload.get("action"), str) else ""
        try:
            outcome = await self._store.record_delivery_async(
                delivery_id,
                event,
                action,
                status,
                decision.reason,
                decision.deployment,
                body_digest=hashlib.sha256(body).hexdigest(),
            )
        except Exception as error:
            reason = unwritable_reason(error)
            if reason is None:
                log.exception("could not record delivery", extra={"delivery_id": delivery_id})
                reason = "the database took no write"
            else:
                log.warning(
                    f"could not record delivery: {reason}", extra={"delivery_id": delivery_id}
                )
            return _error(
                503, f"could not record the delivery ({reason}); it was not accepted, retry it"
            )

        if outcome.replay_of is not None:  # the signature covers the body, not the id
            self._metrics.deliveries.labels(event, "duplicate").inc()
            log.warning(outcome.delivery.detail, extra={"delivery_id": delivery_id})
            return Answer(
                200, {"status": "ignored", "reason": outcome.delivery.detail, "duplicate": True}
            )
        if outcome.duplicate:
            self._metrics.deliveries.labels(event, "duplicate").inc()
            log.info(
                "duplicate delivery", extra={"delivery_id": delivery_id, "github_event": event}
            )
            deployment = outcome.deployment
            return Answer(
                200,
                {
                    "duplicate": True,
                    "delivery": delivery_id,
                    "status": outcome.delivery.status,
                    "id": deployment.id if deployment else None,
                },
            )

        deployment = outcome.deployment
        extra = {"delivery_id": delivery_id, "github_event": event, "outcome": decision.outcome}
        if deployment is None:
            self._metrics.deliveries.labels(event, decision.outcome).inc()
            log.info(decision.reason, extra=extra)
            return Answer(
                200, {"status": decision.outcome, "reason": decision.reason, "duplicate": False}
            )
        refused = await hand_off(self._store, self._queue, deployment, delivery_id)
        if refused is not None:
            log.error(refused, extra={**extra, "deployment_id": deployment.id})
            return _error(503, f"{refused}; redeliver it later", id=deployment.id)
        self._metrics.deliveries.labels(event, decision.outcome).inc()
        log.info(decision.reason, extra={**extra, "deployment_id": deployment.id})
        return Answer(
            202,
            {
                "id": deployment.id,
                "url": f"/deployments/{deployment.id}",
                "state": str(deployment.state),
                "kind": str(deployment.kind),
                "sha": deployment.sha,
                "duplicate": False,
            },
            ((b"location", f"/deployments/{deployment.id}".encode()),),
        )
