"""GitHub webhook signatures (`X-Hub-Signature-256`): HMAC-SHA256 of the raw body."""

from __future__ import annotations

import hmac

PREFIX = "sha256="
_HEX_DIGITS = frozenset("0123456789abcdef")


def sign(secret: bytes, body: bytes) -> str:
    """The header value GitHub would send for `body`: `sha256=<hex digest>`."""
    return PREFIX + hmac.digest(secret, body, "sha256").hex()


def signature_problem(secret: bytes, body: bytes, header: str | None) -> str | None:
    """Why `header` is not a valid signature of `body`, or None when it is.

    The digest comparison is `hmac.compare_digest` (constant time). A SHA-1 `sha1=` value
    (the legacy `X-Hub-Signature` format) is refused: only SHA-256 is accepted.
    """
    if not header:
        return "missing X-Hub-Signature-256 header"
    if not header.startswith(PREFIX):
        return "X-Hub-Signature-256 must start with 'sha256=' (SHA-1 signatures are refused)"
    digest = header[len(PREFIX) :]
    if len(digest) != 64 or not _HEX_DIGITS.issuperset(digest):
        return "X-Hub-Signature-256 is not 64 lowercase hex digits"
    expected = hmac.digest(secret, body, "sha256")
    if not hmac.compare_digest(expected, bytes.fromhex(digest)):
        return "signature does not match the body (check the webhook secret)"
    return None
