"""Render a preview as the pull request comment (pure: a report in, Markdown out).

The comment starts with a hidden marker naming the stack, so that the next preview of the
same pull request finds it and edits it in place. Output longer than GitHub's comment
limit (65,536 characters) is cut in the details, never in the summary, with a note.
"""

from __future__ import annotations

from collections import Counter

from webhook.feedback.preview import OPERATIONS, PreviewReport, ResourceChange

#: GitHub refuses comment bodies longer than this (422 "body is too long").
GITHUB_COMMENT_LIMIT = 65_536
#: Longest error text shown in full; the rest is in the service log.
MAX_ERROR_CHARS = 8_000

# "!" is what GitHub's diff highlighting colours as "changed" (Pulumi itself prints "~").
_SYMBOL = {"create": "+", "update": "!", "replace": "+-", "delete": "-"}


def comment_marker(stack: str) -> str:
    """The hidden first line that identifies this stack's preview comment on a PR."""
    return f"<!-- slipway:preview stack={stack} -->"


def _code(text: str) -> str:
    """Inline code for a table cell: no backticks or pipes can break out of it."""
    return "`" + text.replace("`", "'").replace("|", "\\|").replace("\n", " ") + "`"


def _fenced(text: str) -> str:
    # A fence only ends on a line of three backticks; breaking such runs keeps it closed.
    return text.replace("```", "`\u200b``")


def _headline(report: PreviewReport) -> str:
    if report.failed:
        return f"### ❌ Slipway preview of `{report.stack}` failed"
    if not report.changes:
        return f"### ✅ Slipway preview of `{report.stack}`: no changes"
    counts = ", ".join(f"{report.count(op)} to {op}" for op in OPERATIONS if report.count(op))
    return f"### 📋 Slipway preview of `{report.stack}`: {counts}"


def _summary_table(changes: tuple[ResourceChange, ...]) -> list[str]:
    per_type = Counter((change.type, change.op) for change in changes)
    types = sorted({change.type for change in changes})
    lines = ["| resource type | " + " | ".join(OPERATIONS) + " |", "|---|" + "---:|" * 4]
    for type_ in types:
        cells = [str(per_type[(type_, op)] or "") for op in OPERATIONS]
        lines.append(f"| {_code(type_)} | " + " | ".join(cells) + " |")
    totals = [f"**{sum(1 for c in changes if c.op == op)}**" for op in OPERATIONS]
    lines.append("| **total** | " + " | ".join(totals) + " |")
    return lines


def detail_line(change: ResourceChange) -> str:
    """One line of the folded diff, e.g. `! update docker:index/container:Container web`."""
    line = f"{_SYMBOL[change.op]} {change.op} {change.type} {change.name}"
    if change.changed:
        line += f"  [changed: {', '.join(change.changed)}]"
    if change.replace_keys:
        line += f"  [replaced because of: {', '.join(change.replace_keys)}]"
    return _fenced(line)


def _errors_block(errors: tuple[str, ...]) -> list[str]:
    text = "\n".join(errors)
    if len(text) > MAX_ERROR_CHARS:
        text = text[:MAX_ERROR_CHARS] + f"\n… ({len(text) - MAX_ERROR_CHARS} more characters)"
    return ["**Errors**", "", "```", _fenced(text), "```", ""]


def _truncation_note(shown: int, total: int, log_url: str | None) -> str:
    where = f"the [service log]({log_url})" if log_url else "the service log"
    return (
        f"> ✂️ Output truncated to GitHub's {GITHUB_COMMENT_LIMIT:,}-character comment limit: "
        f"{shown} of {total} resources shown in the details; the full preview is in {where}."
    )


def render_preview_comment(report: PreviewReport, *, limit: int = GITHUB_COMMENT_LIMIT) -> str:
    """The Markdown body of the PR comment for `report`, at most `limit` characters."""
    head = [comment_marker(report.stack), _headline(report), ""]
    commit = f"Commit {_code(report.head_sha)} of #{report.pr_number}"
    if report.log_url:
        commit += f" · [log]({report.log_url})"
    head += [commit, ""]
    if report.changes:
        head += [*_summary_table(report.changes), ""]
    if report.errors:
        head += _errors_block(report.errors)
    footer = ["", "<sub>Updated on every push to this pull request by Slipway.</sub>"]
    if not report.changes:
        return _fit("\n".join(head + footer), limit)

    lines = [detail_line(change) for change in report.changes]
    open_details = [
        "<details><summary>Changes in detail "
        f"({len(lines)} resource{'s' if len(lines) != 1 else ''})</summary>",
        "",
        "```diff",
    ]
    close_details = ["```", "", "</details>"]
    fixed = "\n".join(head + open_details + close_details + footer)
    note = _truncation_note(len(lines), len(lines), report.log_url)
    budget = limit - len(fixed) - 1  # the newline before the first detail line
    shown: list[str] = []
    used = 0
    for line in lines:
        if used + len(line) + 1 > budget:
            break
        shown.append(line)
        used += len(line) + 1
    if len(shown) < len(lines):
        # Make room for the note, then say how much was left out.
        budget -= len(note) + 2
        while shown and used > budget:
            used -= len(shown.pop()) + 1
        note = _truncation_note(len(shown), len(lines), report.log_url)
        close_details = [*close_details, "", note]
    body = "\n".join(head + open_details + shown + close_details + footer)
    return _fit(body, limit)


def _fit(body: str, limit: int) -> str:
    """Last resort when even the summary is too long: cut it, and say so."""
    if len(body) <= limit:
        return body
    note = "\n\n> ✂️ Output truncated to GitHub's comment limit; the full preview is in the log."
    return body[: limit - len(note)] + note
