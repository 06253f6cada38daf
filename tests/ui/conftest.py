"""Fixtures for the deployments page: a running service (real uvicorn) with a seeded store."""

from __future__ import annotations

from tests.webhook.conftest import TOKEN, Service, ServiceFactory, start_service

__all__ = ["TOKEN", "Service", "ServiceFactory", "start_service"]
