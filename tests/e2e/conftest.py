"""The loopback fake GitHub of the feedback suite, for the end-to-end deploy loop."""

from tests.feedback.conftest import fake_github  # noqa: F401
