"""docs/github.md shows the comment exactly as the renderer writes it."""

from __future__ import annotations

from pathlib import Path

from tests.support.engine_events import typical_preview
from webhook.feedback.comment import render_preview_comment
from webhook.feedback.preview import PreviewReport
from webhook.feedback.preview_events import PreviewCollector


def example_comment() -> str:
    """The example in docs/github.md: one change of each kind on stack `prod`."""
    collector = PreviewCollector()
    for event in typical_preview():
        collector(event)
    report = PreviewReport(
        stack="prod",
        repository="octo-org/shop",
        pr_number=42,
        head_sha="9f2c1e7d4b8a6f0e3c5d7a9b1e2f4c6d8a0b2c4e",
        changes=collector.changes,
        log_url="https://deploy.example.com/deployments/118/log",
    )
    return render_preview_comment(report)


def test_the_documented_example_comment_is_the_rendered_one(repo_root: Path) -> None:
    docs = (repo_root / "docs" / "github.md").read_text()
    assert f"````markdown\n{example_comment()}\n````" in docs, (
        "docs/github.md's example comment is out of date: render it again with "
        "tests/webhook/feedback/test_docs.py:example_comment()"
    )
