"""ipywidget forms: MySQL credentials, artifact stores, MLflow trackers and stacks without secrets in cells.

Every form validates inline before any network call, disables its buttons while it works,
shows errors in its status line (never a traceback), and does its work through
:mod:`zenml_notebook.api`. Password fields are cleared as soon as their value is used, so
the notebook's saved widget state never holds a secret.
"""

from .forms import (
    ArtifactStoreForm,
    MySQLForm,
    StackForm,
    TrackerForm,
    artifacts_form,
    in_form_words,
    mysql_form,
    stack_form,
    tracker_form,
)

__all__ = ["ArtifactStoreForm", "MySQLForm", "StackForm", "TrackerForm", "artifacts_form", "in_form_words", "mysql_form", "stack_form", "tracker_form"]
