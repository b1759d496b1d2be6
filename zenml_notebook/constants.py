"""Names of the environment variables, in one place."""

from .kinds import ENV_OF_KIND

ENV_REPO = "ZENML_NOTEBOOK_REPO"
ENV_STACK = "ZENML_NOTEBOOK_STACK"
ENV_COMPONENT = ENV_OF_KIND  # kind -> the variable that overrides its component (see kinds.py)
