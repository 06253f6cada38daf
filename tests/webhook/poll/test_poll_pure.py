"""The poll's pure parts: which git command, which head."""

from __future__ import annotations

from pathlib import Path

from webhook.poll import head_from_ls_remote, ls_remote_command

REF = "refs/heads/main"


def test_head_is_the_line_of_exactly_the_branch():
    output = f"{'a' * 40}\trefs/heads/main-old\n{'B' * 40}\t{REF}\n{'c' * 40}\tHEAD\n"
    assert head_from_ls_remote(output, REF) == "b" * 40
    assert head_from_ls_remote(f"{'a' * 40}\trefs/heads/other\n", REF) is None
    assert head_from_ls_remote("", REF) is None


def test_command_asks_the_mirrors_remote_once_the_mirror_exists():
    mirror = Path("/state/git/mirror.git")
    assert ls_remote_command("https://x/r.git", mirror, REF) == [
        *("git", "--git-dir", str(mirror), "ls-remote", "origin", REF)
    ]
    assert ls_remote_command("https://x/r.git", None, REF) == [
        *("git", "ls-remote", "https://x/r.git", REF)
    ]
