"""`import zenml_notebook` and `%load_ext zenml_notebook` stay cheap (checked via sys.modules)."""

from __future__ import annotations

import subprocess
import sys

HEAVY = ["ml_metadata", "sqlalchemy", "gcsfs", "s3fs", "dask", "distributed", "ipywidgets", "tornado", "pydantic", "pydantic_settings", "yaml"]


def loaded_after(code: str) -> set[str]:
    probe = f"{code}\nimport sys\nprint(' '.join(sorted(m for m in {HEAVY!r} if m in sys.modules)))"
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True).stdout
    return set(out.split())


def test_import_package_loads_nothing_heavy() -> None:
    assert loaded_after("import zenml_notebook") == set()


def test_load_ext_loads_nothing_heavy(tmp_path) -> None:
    code = (
        "import os; os.chdir(%r)\n"
        "from IPython.core.interactiveshell import InteractiveShell\n"
        "ip = InteractiveShell.instance()\n"
        "before = set(__import__('sys').modules)\n"
        "ip.run_line_magic('load_ext', 'zenml_notebook')\n"
        "assert not os.path.exists('.zenml'), 'load_ext must not touch the disk'\n"
    ) % str(tmp_path)
    # IPython itself may pull some modules in; what matters is that the extension adds none
    assert loaded_after(code) - loaded_after(code.replace("ip.run_line_magic('load_ext', 'zenml_notebook')\n", "")) == set()
    assert loaded_after(code) & {"ml_metadata", "sqlalchemy", "gcsfs", "s3fs", "dask", "ipywidgets", "tornado"} == set()


def test_stack_list_needs_neither_pydantic_nor_sqlalchemy(tmp_path) -> None:
    code = (
        "import os; os.chdir(%r)\n"
        "from zenml_notebook.commands import execute\n"
        "execute(['init']); execute(['stack', 'list']); execute(['stack', 'describe'])\n"
    ) % str(tmp_path)
    assert loaded_after(code) == set()
