"""The PR comment renderer: marker, commit, summary table, folded details, truncation."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from tests.support.engine_events import CONTAINER, typical_preview
from webhook.feedback.comment import (
    GITHUB_COMMENT_LIMIT,
    comment_marker,
    detail_line,
    render_preview_comment,
)
from webhook.feedback.preview import OPERATIONS, PreviewReport, ResourceChange
from webhook.feedback.preview_events import PreviewCollector

SHA = "ec26c3e57ca3a959ca5aad62de7213c562f8c821"


def report_of(events, **overrides) -> PreviewReport:
    collector = PreviewCollector()
    for event in events:
        collector(event)
    fields = {
        "stack": "prod",
        "repository": "Codertocat/Hello-World",
        "pr_number": 2,
        "head_sha": SHA,
        "changes": collector.changes,
        "errors": collector.errors,
        "failed": collector.failed,
        "log_url": "https://deploy.example.com/deployments/9/log",
    }
    return PreviewReport(**{**fields, **overrides})


def test_comment_has_marker_commit_table_and_folded_details() -> None:
    body = render_preview_comment(report_of(typical_preview()))
    lines = body.splitlines()
    assert lines[0] == comment_marker("prod")
    assert "1 to create, 1 to update, 1 to replace, 1 to delete" in lines[1]
    assert f"Commit `{SHA}` of #2" in body
    assert "[log](https://deploy.example.com/deployments/9/log)" in body
    assert "| `docker:index/container:Container` |  | 1 | 1 |  |" in lines
    assert "| `docker:index/network:Network` | 1 |  |  |  |" in lines
    assert "| **total** | **1** | **1** | **1** | **1** |" in lines
    details = body[body.index("<details>") : body.index("</details>")]
    assert "! update docker:index/container:Container web  [changed: envs[0], labels]" in details
    assert "+- replace docker:index/container:Container db  [changed: image]" in details
    assert "[replaced because of: image]" in details
    assert "Output truncated" not in body


def test_a_failed_preview_shows_its_errors() -> None:
    report = report_of([], errors=("web: image not found",), failed=True)
    body = render_preview_comment(report)
    assert "failed" in body.splitlines()[1]
    assert "**Errors**" in body
    assert "web: image not found" in body
    assert "<details>" not in body


def test_no_changes_says_so() -> None:
    body = render_preview_comment(report_of([]))
    assert "no changes" in body.splitlines()[1]


def test_markdown_in_names_cannot_break_out_of_cells_or_fences() -> None:
    change = ResourceChange(urn="u", type="a|b`c", name="x```y", op="create")
    body = render_preview_comment(report_of([], changes=(change,)))
    assert "| `a\\|b'c` |" in body
    assert "```y" not in detail_line(change)
    assert body.count("```") == 2  # only the details fence


def many_changes(count: int, name_length: int) -> tuple[ResourceChange, ...]:
    return tuple(
        ResourceChange(
            urn=f"u{n}",
            type=CONTAINER,
            name=f"service-{n}-" + "x" * name_length,
            op=OPERATIONS[n % 4],
            changed=("image", "envs"),
        )
        for n in range(count)
    )


def test_long_output_is_cut_in_the_details_with_a_note() -> None:
    changes = many_changes(3000, 40)
    body = render_preview_comment(report_of([], changes=changes))
    assert len(body) <= GITHUB_COMMENT_LIMIT
    assert body.startswith(comment_marker("prod"))
    assert "| **total** | **750** | **750** | **750** | **750** |" in body  # summary is whole
    shown = body.count("\n+ create ") + body.count("\n! update ") + body.count("\n- delete ")
    shown += body.count("\n+- replace ")
    assert 0 < shown < 3000
    assert f"{shown} of 3000 resources shown" in body
    assert "65,536-character comment limit" in body
    assert body.count("```") == 2 and body.index("</details>") < body.index("Output truncated")


@settings(max_examples=40, deadline=None)
@given(
    count=st.integers(min_value=0, max_value=2500),
    name_length=st.integers(min_value=1, max_value=120),
    errors=st.lists(st.text(max_size=3000), max_size=5),
    limit=st.integers(min_value=4_000, max_value=GITHUB_COMMENT_LIMIT),
)
def test_never_longer_than_the_limit_and_always_marked(
    count: int, name_length: int, errors: list[str], limit: int
) -> None:
    report = report_of([], changes=many_changes(count, name_length), errors=tuple(errors))
    body = render_preview_comment(report, limit=limit)
    assert len(body) <= limit
    assert body.startswith(comment_marker("prod") + "\n")
    if "Output truncated" not in body and count:
        assert body.count("\n+ create ") == (count + 3) // 4
