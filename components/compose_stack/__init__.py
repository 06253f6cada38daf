"""Compose services as a Pulumi component: read (Docker Compose), translate (pure), declare."""

from components.compose_stack.component import TYPE_TOKEN, ComposeStack, ComposeStackArgs
from components.compose_stack.plan import StackPlan
from components.compose_stack.reader import load_stack_plan
from components.compose_stack.translate import ComposeTranslationError, HostFacts, translate_model

__all__ = [
    "TYPE_TOKEN",
    "ComposeStack",
    "ComposeStackArgs",
    "ComposeTranslationError",
    "HostFacts",
    "StackPlan",
    "load_stack_plan",
    "translate_model",
]
