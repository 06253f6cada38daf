"""HTML of the deployments page from view models (webhook.http.ui.views): escaping and layout,
no I/O. Every value from the store goes through `html.escape`."""

from __future__ import annotations

from html import escape

from webhook.http.drift_view import DriftStatus
from webhook.http.ui import templates as t
from webhook.http.ui.views import Row, StackStatus, iso_ms
from webhook.store import Deployment, LogLine, StateChange


def e(value: object) -> str:
    return escape(str(value), quote=True)


def time_html(at: str, *, clock_only: bool = False) -> str:
    """A `<time>` in UTC that the page's script shows in the viewer's time zone."""
    fmt = ' data-format="time"' if clock_only else ""
    return f'<time datetime="{iso_ms(at)}"{fmt}>{e(at[:19].replace("T", " "))} UTC</time>'


def page(title: str, body: str, *, nonce: str, csrf: str = "", signed_in: bool = False) -> str:
    logout = t.LOGOUT.substitute(csrf=e(csrf)) if signed_in and csrf else ""
    return t.PAGE.substitute(
        title=e(title), body=body, nonce=e(nonce), csrf=e(csrf), css=t.CSS, js=t.JS, logout=logout
    )


def login_body(next_path: str, error: str) -> str:
    return t.LOGIN.substitute(next=e(next_path), error=e(error))


def _link(deployment: Deployment, text: str) -> str:
    return f'<a href="/ui/deployments/{deployment.id}">{text}</a>'


def _state(deployment: Deployment) -> str:
    return f'<span class="state s-{e(deployment.state)}">{e(deployment.state)}</span>'


def stack_card(status: StackStatus) -> str:
    deployed = since = latest = '<span class="muted">none yet</span>'
    if status.deployed is not None and status.deployed_sha and status.healthy_since:
        deployed = _link(status.deployed, f"<code>{e(status.deployed_sha[:12])}</code>")
        since = time_html(status.healthy_since)
    if status.latest is not None:
        latest = f"{_link(status.latest, f'#{status.latest.id}')} {_state(status.latest)}"
    reconcile = ""
    if status.deployed_sha:
        reconcile = t.RECONCILE.substitute(stack=e(status.stack), short=e(status.deployed_sha[:12]))
    return t.STACK.substitute(
        stack=e(status.stack),
        deployed=deployed,
        since=since,
        latest=latest,
        drift=drift_html(status.drift),
        reconcile=reconcile,
    )


def drift_html(drift: DriftStatus | None) -> str:
    """The stack's drift line, and per drifted resource its fields (old → new)."""
    if drift is None:
        return '<span class="muted">not checked yet</span>'
    text = e(drift.text)
    if drift.since:
        text = e(drift.text.replace(f" since {drift.since},", "")).replace(
            "drifted", f"drifted since {time_html(drift.since)},", 1
        )
    items = ""
    if drift.state == "drifted" and drift.check is not None:
        items = "".join(
            t.DRIFT_RESOURCE.substitute(
                name=e(item["name"]),
                change=e(item["change"]),
                fields=_fields(item["fields"]),
            )
            for item in drift.check.report
        )
        items = f'<ul class="drift">{items}</ul>'
    return t.DRIFT.substitute(state=e(drift.state), text=text, resources=items)


def _fields(fields: list[dict[str, str]]) -> str:
    if not fields:
        return ""
    return ": " + e("; ".join(f"{f['field']} {f['old']} → {f['new']}" for f in fields))


def history_row(item: Row) -> str:
    d = item.deployment
    duration = e(item.duration) + (" (running)" if item.running else "")
    return t.ROW.substitute(
        id=d.id,
        stack=e(d.stack),
        kind=e(d.kind),
        sha=e(d.sha),
        short=e(d.sha[:12]),
        state=e(d.state),
        trigger=e(item.trigger),
        queued=time_html(d.created_at),
        duration=duration,
        rollback=e(item.rollback),
        note=e(item.note),
    )


def list_body(statuses: list[StackStatus], rows: list[Row], newer: str | None, older: str | None):
    cards = "".join(stack_card(s) for s in statuses) or '<p class="muted">No deployments yet.</p>'
    pages = [f'<a href="{e(url)}">{label}</a>' for url, label in ((newer, "← newest"),) if url]
    pages += [f'<a href="{e(url)}" rel="next">older →</a>' for url in (older,) if url]
    dialog = t.RECONCILE_DIALOG if any(s.deployed_sha for s in statuses) else ""
    return t.LIST.substitute(
        stacks=cards,
        rows="".join(history_row(r) for r in rows),
        pages=" ".join(pages),
        dialog=dialog,
    )


def log_line(line: LogLine) -> str:
    return t.LINE.substitute(
        seq=line.seq, at=time_html(line.at, clock_only=True), text=e(line.line)
    )


def rollback_action(deployment: Deployment, good: Deployment | None) -> str:
    """The button (and its confirmation) that POSTs /deployments/{id}/rollback."""
    if good is None or deployment.kind == "preview":
        return ""
    return t.ROLLBACK.substitute(
        id=deployment.id, short=e(good.sha[:12]), good_id=good.id, stack=e(deployment.stack)
    )


def force_action(deployment: Deployment, service_stack: str | None) -> str:
    """The button (and its confirmation) that POSTs /deployments with `force` for this
    deployment's commit: for deploys and rollbacks of the stack the API deploys."""
    if deployment.kind == "preview" or deployment.stack != service_stack:
        return ""
    return t.FORCE.substitute(
        sha=e(deployment.sha), ref=e(deployment.ref), short=e(deployment.sha[:12]),
        stack=e(deployment.stack),
    )  # fmt: skip


def _waiting(item: Row) -> str:
    """A queued deployment's reason to wait (views.row), above its history."""
    if item.deployment.state != "queued" or not item.note.startswith("waiting: "):
        return ""
    return f'<p class="note waiting">{e(item.note)}</p>\n'


def detail_body(
    item: Row,
    history: list[StateChange],
    lines: list[LogLine],
    good: Deployment | None,
    events_url: str | None,
    service_stack: str | None = None,
) -> str:
    """A deployment's page; with `events_url` its log follows the job live. `service_stack`:
    the stack POST /deployments deploys (its deployments get the full-up button)."""
    d = item.deployment
    changes = "".join(
        t.CHANGE.substitute(state=e(c.state), at=time_html(c.at), note=e(c.note)) for c in history
    )
    return t.DETAIL.substitute(
        id=d.id,
        state=e(d.state),
        stack=e(d.stack),
        kind=e(d.kind),
        sha=e(d.sha),
        ref=e(d.ref),
        trigger=e(item.trigger),
        reason=e(d.reason),
        queued=time_html(d.created_at),
        duration=e(item.duration or "—") + (" so far" if item.running else ""),
        rollback=e(item.rollback or "—"),
        rollback_action=rollback_action(d, good),
        force_action=force_action(d, service_stack),
        waiting=_waiting(item),
        history=changes,
        live="live" if events_url else "finished",
        live_class="" if events_url else "done",
        events=e(events_url or ""),
        lines="".join(log_line(line) for line in lines),
    )
