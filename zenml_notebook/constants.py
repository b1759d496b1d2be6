"""Names of the environment variables, in one place."""

ENV_REPO = "ZENML_NOTEBOOK_REPO"
ENV_STACK = "ZENML_NOTEBOOK_STACK"
ENV_COMPONENT = {
    "metadata_store": "ZENML_NOTEBOOK_METADATA_STORE",
    "artifact_store": "ZENML_NOTEBOOK_ARTIFACT_STORE",
    "orchestrator": "ZENML_NOTEBOOK_ORCHESTRATOR",
}
