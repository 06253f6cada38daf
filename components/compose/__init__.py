"""Compose toolkit (no Pulumi): run Docker Compose's `config`, resolve, migrate `extends`."""
