"""Pipelines of steps on the active stack, tracked in ml-metadata."""

from .dsl import Pipeline, Step, pipeline, step
from .materializers import register_materializer

__all__ = ["Pipeline", "Step", "pipeline", "register_materializer", "step"]
