"""Names in one place: the environment variables, and the database servers' own schemas (light:
no pydantic, so a shared registry's cold start does not pay for the config models)."""

from .kinds import ENV_OF_KIND

ENV_REPO = "ZENML_NOTEBOOK_REPO"
ENV_STACK = "ZENML_NOTEBOOK_STACK"
ENV_COMPONENT = ENV_OF_KIND  # kind -> the variable that overrides its component (see kinds.py)

# the servers' own schemas: a store or registry created in them would mix our tables with the
# server's accounts and statistics
SYSTEM_DATABASES = frozenset({"mysql", "information_schema", "performance_schema", "sys"})
PG_SYSTEM_DATABASES = frozenset({"postgres", "template0", "template1"})
