"""The deploy API (`/deployments...`, bearer token) and the health routes, as FastAPI routers."""

from __future__ import annotations

import hmac
import time
from dataclasses import asdict
from typing import Annotated, Any, TypeVar

from fastapi import APIRouter, Depends, Header, HTTPException, Path, Query, Request, Response
from fastapi.exceptions import RequestValidationError
from pydantic import BaseModel, Field, ValidationError

from webhook.http.auth import cookie_request_valid
from webhook.http.callers import client_address
from webhook.http.limits import MAX_ID
from webhook.http.ratelimit import RateLimiter
from webhook.http.readiness import readiness_json
from webhook.metrics import Metrics
from webhook.queue import DeploymentQueue, hand_off_sync
from webhook.settings import Settings
from webhook.store import DeliveryStatus, Deployment, NewDeployment, NotFound, Store
from webhook.store.states import DeploymentKind

M = TypeVar("M", bound=BaseModel)

# ---- dependencies (FastAPI DI): everything comes from app.state, set by create_app ------


def get_settings(request: Request) -> Settings:
    return request.app.state.settings


def get_store(request: Request) -> Store:
    return request.app.state.store


def get_queue(request: Request) -> DeploymentQueue:
    return request.app.state.queue


def get_metrics(request: Request) -> Metrics:
    return request.app.state.metrics


SettingsDep = Annotated[Settings, Depends(get_settings)]
StoreDep = Annotated[Store, Depends(get_store)]
QueueDep = Annotated[DeploymentQueue, Depends(get_queue)]
MetricsDep = Annotated[Metrics, Depends(get_metrics)]
DeploymentId = Annotated[int, Path(ge=1, le=MAX_ID, description="a deployment's id")]


def rate_limit(request: Request, settings: SettingsDep, metrics: MetricsDep) -> None:
    """429 with Retry-After when this client has used up its API allowance."""
    limiter: RateLimiter = request.app.state.api_limiter
    peer = request.client.host if request.client else None
    client = client_address(
        peer, request.headers.get("x-forwarded-for"), settings.http.proxy_networks
    )
    retry_after = limiter.retry_after(client)
    if retry_after is not None:
        metrics.rate_limited.labels("/deployments").inc()
        raise HTTPException(
            429,
            f"too many requests from {client}; retry in {retry_after} s",
            headers={"Retry-After": str(retry_after)},
        )


def require_token(
    request: Request,
    settings: SettingsDep,
    authorization: Annotated[str | None, Header()] = None,
) -> None:
    """401 unless `Authorization: Bearer <SLIPWAY_API_TOKEN>` (compared in constant time),
    or, from the deployments page, its login cookie with the X-Slipway-CSRF header."""
    challenge = {"WWW-Authenticate": "Bearer"}
    if settings.http.api_token is None:
        raise HTTPException(
            401, "the deploy API is disabled: set SLIPWAY_API_TOKEN", headers=challenge
        )
    scheme, _, token = (authorization or "").partition(" ")
    expected = settings.http.api_token.get_secret_value().encode()
    if scheme.lower() != "bearer" or not hmac.compare_digest(token.strip().encode(), expected):
        not_before = request.app.state.store.session_not_before()
        if authorization is None and cookie_request_valid(
            expected.decode(), request.cookies, request.headers, time.time(), not_before
        ):
            return
        raise HTTPException(401, "missing or wrong bearer token", headers=challenge)


# ---- models ----------------------------------------------------------------------------


class DeployRequest(BaseModel):
    sha: str = Field(pattern=r"^[0-9a-f]{7,40}$", description="commit to deploy (hex)")
    ref: str = Field(default="", max_length=255, description="e.g. refs/heads/main")
    reason: str = Field(default="", max_length=500)
    force: bool = Field(
        default=False,
        description="run a full `up` even when the stack is proved unchanged (docs/runbook.md)",
    )


class RollbackRequest(BaseModel):
    reason: str = Field(default="", max_length=500)


def _json_body(model: type[M], body: bytes) -> M:
    """`body` as `model`; 422 naming each problem (as FastAPI answers for a body model)."""
    try:
        return model.model_validate_json(body)
    except ValidationError as error:
        raise RequestValidationError(
            [{**problem, "loc": ("body", *problem["loc"])} for problem in error.errors()]
        ) from None


async def deploy_request(request: Request) -> DeployRequest:
    """The body of `POST /deployments`, read only after the rate limit and the token passed
    (router dependencies run first; the body limit bounds it, webhook/http/limits.py)."""
    return _json_body(DeployRequest, await request.body())


async def rollback_request(request: Request) -> RollbackRequest | None:
    """The optional body of `POST /deployments/{id}/rollback`, read after auth."""
    body = await request.body()
    return _json_body(RollbackRequest, body) if body.strip() else None


def _body_schema(model: type[BaseModel], required: bool) -> dict[str, Any]:
    """OpenAPI for a body the route reads itself (FastAPI documents only the ones it reads)."""
    schema = {"application/json": {"schema": model.model_json_schema()}}
    return {"requestBody": {"required": required, "content": schema}}


def deployment_json(deployment: Deployment) -> dict[str, Any]:
    body = asdict(deployment)
    body["kind"] = str(deployment.kind)
    body["state"] = str(deployment.state)
    body["url"] = f"/deployments/{deployment.id}"
    return body


def _accepted(response: Response, deployment: Deployment, duplicate: bool) -> dict[str, Any]:
    response.headers["Location"] = f"/deployments/{deployment.id}"
    return {**deployment_json(deployment), "duplicate": duplicate}


def _submit(store: Store, queue: DeploymentQueue, deployment: Deployment, key: str | None) -> None:
    refused = hand_off_sync(store, queue, deployment, key)
    if refused is not None:
        raise HTTPException(503, f"{refused}; retry later")


def _find(store: Store, deployment_id: int) -> Deployment:
    try:
        return store.get_deployment(deployment_id)
    except NotFound:
        raise HTTPException(404, f"no deployment {deployment_id}") from None


# ---- routes ----------------------------------------------------------------------------

deployments = APIRouter(
    prefix="/deployments",
    tags=["deployments"],
    dependencies=[Depends(rate_limit), Depends(require_token)],
    responses={
        401: {"description": "missing or wrong bearer token, or no SLIPWAY_API_TOKEN set"},
        429: {"description": "too many requests from this client; see Retry-After"},
    },
)
NOT_FOUND = {404: {"description": "no such deployment"}}
REFUSED = {503: {"description": "the queue refused the deployment (starting or stopping)"}}


@deployments.post(
    "",
    status_code=202,
    responses={
        200: {"description": "a repeated Idempotency-Key: the same deployment again"},
        409: {"description": "the Idempotency-Key was used for another sha"},
        **REFUSED,
    },
    openapi_extra=_body_schema(DeployRequest, required=True),
)
def request_deployment(
    body: Annotated[DeployRequest, Depends(deploy_request)],
    response: Response,
    settings: SettingsDep,
    store: StoreDep,
    queue: QueueDep,
    idempotency_key: Annotated[str | None, Header(max_length=128)] = None,
) -> dict[str, Any]:
    """Queue a deployment of `sha`. With `Idempotency-Key`, a retry returns the same one."""
    new = NewDeployment(
        kind=DeploymentKind.DEPLOY,
        stack=settings.deploy.stack,
        sha=body.sha,
        ref=body.ref,
        reason=body.reason or "requested through the API",
        force=body.force,
    )
    if idempotency_key is None:
        deployment = store.create_deployment(new)
        _submit(store, queue, deployment, None)
        return _accepted(response, deployment, duplicate=False)
    key = f"api:{idempotency_key}"
    outcome = store.record_delivery(key, "api", "deploy", DeliveryStatus.PROCESSED, new.reason, new)
    if outcome.deployment is None:  # only API deploys are recorded under `api:` keys
        raise HTTPException(409, f"Idempotency-Key {idempotency_key!r} names no deployment")
    if outcome.duplicate:
        if outcome.deployment.sha != body.sha:
            raise HTTPException(
                409,
                f"Idempotency-Key {idempotency_key!r} was used for deployment "
                f"{outcome.deployment.id} of {outcome.deployment.sha}; use a new key per commit",
            )
        response.status_code = 200
    else:
        _submit(store, queue, outcome.deployment, key)
    return _accepted(response, outcome.deployment, duplicate=outcome.duplicate)


@deployments.get("")
def list_deployments(
    store: StoreDep,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    before: Annotated[
        int | None, Query(ge=1, le=MAX_ID, description="page: ids below this")
    ] = None,
) -> dict[str, Any]:
    """Deployments, newest first; follow `next` for the following page."""
    items = store.list_deployments(limit=limit, before_id=before)
    following = f"/deployments?before={items[-1].id}&limit={limit}" if len(items) == limit else None
    return {"items": [deployment_json(d) for d in items], "next": following}


@deployments.get("/{deployment_id}", responses=NOT_FOUND)
def get_deployment(deployment_id: DeploymentId, store: StoreDep) -> dict[str, Any]:
    """One deployment with its state history."""
    deployment = _find(store, deployment_id)
    history = [
        {"state": str(change.state), "note": change.note, "at": change.at}
        for change in store.state_history(deployment_id)
    ]
    return {**deployment_json(deployment), "history": history}


@deployments.get("/{deployment_id}/log", responses=NOT_FOUND)
def get_log(
    deployment_id: DeploymentId,
    store: StoreDep,
    after: Annotated[int, Query(ge=0, le=MAX_ID, description="only lines with seq above this")] = 0,
    limit: Annotated[int, Query(ge=1, le=5000)] = 1000,
) -> dict[str, Any]:
    """Log lines, oldest first; poll again with `after` = the last `seq` seen."""
    _find(store, deployment_id)
    lines = store.read_log(deployment_id, after=after, limit=limit)
    return {
        "id": deployment_id,
        "lines": [{"seq": line.seq, "at": line.at, "line": line.line} for line in lines],
        "last_seq": lines[-1].seq if lines else after,
    }


@deployments.post(
    "/{deployment_id}/rollback",
    status_code=202,
    responses={
        **NOT_FOUND,
        409: {"description": "a preview (it changed nothing), or nothing to roll back to"},
        **REFUSED,
    },
    openapi_extra=_body_schema(RollbackRequest, required=False),
)
def rollback(
    deployment_id: DeploymentId,
    response: Response,
    store: StoreDep,
    queue: QueueDep,
    body: Annotated[RollbackRequest | None, Depends(rollback_request)],
) -> dict[str, Any]:
    """Deploy again the last good commit before deployment `deployment_id`."""
    target = _find(store, deployment_id)
    if target.kind == DeploymentKind.PREVIEW:
        raise HTTPException(
            409,
            f"deployment {deployment_id} is a preview: it changed nothing, so there is nothing "
            "to roll back; roll back the deploy you want undone",
        )
    good = store.last_good(target.stack, before_id=target.id)
    if good is None:
        raise HTTPException(
            409,
            f"no succeeded deployment of stack {target.stack} before {deployment_id}: "
            "nothing to roll back to",
        )
    reason = (body.reason if body else "") or (
        f"rollback of deployment {deployment_id} to {good.sha[:12]} (deployment {good.id})"
    )
    deployment = store.create_deployment(
        NewDeployment(
            kind=DeploymentKind.ROLLBACK,
            stack=target.stack,
            sha=good.sha,
            ref=good.ref,
            reason=reason,
            rollback_of=deployment_id,
        )
    )
    _submit(store, queue, deployment, None)
    return _accepted(response, deployment, duplicate=False)


health = APIRouter(tags=["health"])


@health.get("/healthz")
async def healthz() -> dict[str, str]:
    """Liveness: the process answers."""
    return {"status": "ok"}


@health.get("/readyz", responses={503: {"description": "the database takes no write"}})
async def readyz(store: StoreDep, queue: QueueDep, response: Response) -> dict[str, Any]:
    """Readiness: the database takes a write (else 503); `degraded` lists what keeps
    deployments from running (no repository, a missing command), each with its fix;
    `recovered` what the recovery at start did for interrupted deployments."""
    try:
        at = await store.check_writable_async()
    except Exception as error:
        response.status_code = 503
        return {"status": "unavailable", "error": f"database not writable: {error}"}
    problems = getattr(queue, "problems", None)  # optional parts of the queue contract
    recovered = getattr(queue, "recovered", None)
    return readiness_json(
        problems() if problems is not None else [],
        at,
        recovered() if recovered is not None else [],
    )


@health.get("/metrics")
async def metrics(metrics: MetricsDep) -> Response:
    """Prometheus text format."""
    return Response(metrics.render(), media_type=metrics.content_type)
