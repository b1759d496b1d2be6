"""Regenerate the notebooks (kept as a script so notebook diffs stay reviewable)."""

import nbformat
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

PIPELINE_SOURCE = (
        "import numpy as np\n"
        "from zenml_notebook import step, pipeline, Client\n\n"
        "@step\n"
        "def load_data(n: int = 200) -> dict:\n"
        "    rng = np.random.default_rng(0)\n"
        "    x = rng.normal(size=(n, 3))\n"
        "    y = x @ np.array([1.5, -2.0, 0.5]) + rng.normal(scale=0.1, size=n)\n"
        "    return {'x': x.tolist(), 'y': y.tolist()}\n\n"
        "@step(outputs=['train', 'test'])\n"
        "def split(data: dict, test_fraction: float = 0.25):\n"
        "    k = int(len(data['y']) * (1 - test_fraction))\n"
        "    return ({'x': data['x'][:k], 'y': data['y'][:k]}, {'x': data['x'][k:], 'y': data['y'][k:]})\n\n"
        "@step\n"
        "def train_model(train: dict, learning_rate: float = 0.1, epochs: int = 200) -> np.ndarray:\n"
        "    X, y = np.array(train['x']), np.array(train['y'])\n"
        "    w = np.zeros(X.shape[1])\n"
        "    for _ in range(epochs):\n"
        "        w -= learning_rate * X.T @ (X @ w - y) / len(y)\n"
        "    return w\n\n"
        "@step\n"
        "def evaluate(model: np.ndarray, test: dict) -> float:\n"
        "    X, y = np.array(test['x']), np.array(test['y'])\n"
        "    return round(float(np.mean((X @ model - y) ** 2)), 6)\n\n"
        "@pipeline\n"
        "def training(learning_rate: float = 0.1):\n"
        "    train, test = split(load_data())\n"
        "    evaluate(train_model(train, learning_rate=learning_rate), test)"
)

cells = [
    new_markdown_cell(
        "# zenml-notebook quickstart\n\n"
        "A **stack** is a metadata store + an artifact store + an orchestrator. "
        "This notebook registers components and stacks, switches between them, and uses the "
        "seed's `config` commands. Everything here also works as `zenml-notebook ...` in a terminal."
    ),
    new_code_cell("%load_ext zenml_notebook"),
    new_markdown_cell("The first command creates a `.zenml` repository (if there is none above this folder) with a `default` stack: SQLite metadata, a local artifact folder, the in-process orchestrator."),
    new_code_cell("%zenml stack list"),
    new_code_cell("%zenml stack describe"),
    new_markdown_cell(
        "## A pipeline on the active stack\n"
        "Steps are plain functions. Every input, output and parameter is tracked in the metadata "
        "store, every output is written to the artifact store, and a step whose code, parameters "
        "and inputs did not change is not run again."
    ),
    new_code_cell(PIPELINE_SOURCE),
    new_code_cell("first = training()\nfirst"),
    new_markdown_cell("Run it again: nothing changed, so every step is a cache hit (and the hit is recorded)."),
    new_code_cell("second = training()\n[s.state for s in second.steps]"),
    new_markdown_cell("Change one parameter: only the steps it affects run."),
    new_code_cell("third = training(learning_rate=0.02)\n[s.state for s in third.steps]"),
    new_code_cell("print(first.output('evaluate'), third.output('evaluate'))"),
    new_code_cell("%zenml runs compare {first.name} {third.name}"),
    new_code_cell("%zenml runs list training"),
    new_markdown_cell("## Register components and a stack\n`%zenml <kind> register NAME --flavor ...` for `metadata`, `artifacts` and `orchestrator`."),
    new_code_cell(
        "%zenml metadata register experiments --flavor sqlite --uri experiments.db\n"
        "%zenml artifacts register scratch --path ./scratch-artifacts\n"
        "%zenml orchestrator register cluster --flavor dask --n-workers 2"
    ),
    new_markdown_cell(
        "The seed's own spelling works as is in a `%%zenml` cell (one command per line; `\\` continues a line). "
        "Registering again with the same settings changes nothing, so cells like these can run again; "
        "`--update` puts the stack back on these components if something changed it since (the `config` "
        "commands below do)."
    ),
    new_code_cell(
        "%%zenml\n"
        "zenml stack register experiments\n"
        "    --metadata_store experiments \\\n"
        "    --artifact_store scratch \\\n"
        "    --orchestrator default \\\n"
        "    --update"
    ),
    new_code_cell("%zenml stack set experiments\n%zenml stack list"),
    new_markdown_cell(
        "## The seed's `config` commands\n"
        "`config ... set` changes the **active** stack's component. It registers a new component "
        "instead of changing one other stacks share, and prints what changed.\n\n"
        "Never type a password into a cell: `--passwd` without a value prompts for it, and "
        "`--passwd-env VAR` reads it from the environment when needed. Secrets are kept outside "
        "`.zenml/` (OS keyring, or a 0600 file in your config folder) and always shown as `********`."
    ),
    new_markdown_cell(
        "A MySQL store is checked before it is saved (with a 5 s timeout, and a message that says "
        "*which* failure it was). There is no MySQL server in this demo, so we save it with "
        "`--no-verify` and then ask what is wrong with it:"
    ),
    new_code_cell(
        "%zenml config metadata set mysql --host 127.0.0.1 --port 3306 --username USER "
        "--passwd-env MYSQL_PASSWORD --database DATABASE --no-verify"
    ),
    new_code_cell("%zenml metadata test", metadata={"tags": ["raises-exception"]}),
    new_markdown_cell(
        "Artifact stores are checked too: the bucket must exist and be writable. This demo has no "
        "Google credentials, so the bucket is saved unchecked (`--no-verify`); `%zenml artifacts test` "
        "checks it later."
    ),
    new_code_cell("%zenml config artifacts set gs://your-bucket/sub/dir --no-verify"),
    new_markdown_cell(
        "Or use a form: it checks the fields before any network call, tests the connection, and "
        "clears the password field as soon as it is used, so neither the cell nor the saved "
        "notebook holds it. (`%zenml form artifacts` and `%zenml form stack` work the same way.)"
    ),
    new_code_cell("%zenml form mysql"),
    new_code_cell("%zenml config list"),
    new_markdown_cell("Results are objects too: keep them, or render them as HTML tables."),
    new_code_cell("stacks = %zenml stack list\nprint(len(stacks), 'stacks')\nstacks"),
    new_markdown_cell("Mistakes get one line saying what is wrong and how to fix it:"),
    new_code_cell("%zenml stack set experimnts", metadata={"tags": ["raises-exception"]}),
    new_markdown_cell("## Share a stack\n`stack export` writes YAML with secret *references*, never values."),
    new_code_cell("%zenml stack export experiments"),
    new_code_cell("%zenml stack set default"),
]

for i, cell in enumerate(cells):  # stable ids keep regenerated notebooks' diffs small
    cell["id"] = f"quickstart-{i:02d}"
nb = new_notebook(cells=cells, metadata={"kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"}})
nbformat.write(nb, "quickstart.ipynb")

remote_cells = [
    new_markdown_cell(
        "# The same pipeline on MySQL + GCS + Dask\n"
        "Metadata in a shared MySQL/MariaDB database, artifacts in a `gs://` bucket, steps on a Dask "
        "cluster.\n\n"
        "**To run it on this machine**, from the repository: `make demo` starts a MariaDB, a GCS emulator "
        "with a bucket and a Dask scheduler with two workers (on 127.0.0.1, under `.demo/`), exports the "
        "variables below and opens this notebook; `make demo-stop` stops them.\n\n"
        "**Against your own services**, export before starting JupyterLab: `ZN_DEMO_MYSQL_HOST`, "
        "`ZN_DEMO_MYSQL_PORT`, `ZN_DEMO_MYSQL_USER`, `ZN_DEMO_MYSQL_DATABASE`, `ZN_DEMO_MYSQL_PASSWORD` (read "
        "when needed, never stored), `ZN_DEMO_BUCKET` (with Google credentials: `gcloud auth "
        "application-default login`, or `STORAGE_EMULATOR_HOST` for an emulator), and `ZN_DEMO_DASK_SCHEDULER` "
        "(`tcp://host:8786`; without it a local cluster of two workers is started). No secret is typed "
        "into this notebook."
    ),
    new_code_cell(
        "%load_ext zenml_notebook\n"
        "import os\n"
        "host = os.environ.get('ZN_DEMO_MYSQL_HOST', '127.0.0.1')\n"
        "port = os.environ.get('ZN_DEMO_MYSQL_PORT', '3306')\n"
        "user = os.environ.get('ZN_DEMO_MYSQL_USER', 'zenml')\n"
        "database = os.environ.get('ZN_DEMO_MYSQL_DATABASE', 'zenml')\n"
        "bucket = os.environ.get('ZN_DEMO_BUCKET', 'my-team-bucket')\n"
        "emulator = os.environ.get('STORAGE_EMULATOR_HOST')\n"
        "gcs_options = f'--anonymous --endpoint-url {emulator}' if emulator else ''\n"
        "scheduler = os.environ.get('ZN_DEMO_DASK_SCHEDULER')\n"
        "dask_options = f'--scheduler-address {scheduler}' if scheduler else '--n-workers 2'"
    ),
    new_markdown_cell(
        "Registering is idempotent: run this cell again and what is registered with the same settings "
        "stays as it is. `--update` gives an existing component these settings, so after the services "
        "move (a new `make demo` picks new ports) the stack follows them."
    ),
    new_code_cell(
        "%zenml metadata register team-mysql --flavor mysql --host {host} --port {port} --username {user} --passwd-env ZN_DEMO_MYSQL_PASSWORD --database {database} --update\n"
        "%zenml artifacts register team-gcs --path gs://{bucket}/zenml {gcs_options} --update\n"
        "%zenml orchestrator register team-dask --flavor dask {dask_options} --update\n"
        "%zenml stack register team -m team-mysql -a team-gcs -o team-dask --set --update"
    ),
    new_code_cell("%zenml stack describe"),
    new_code_cell(PIPELINE_SOURCE),
    new_code_cell("first = training()\nfirst"),
    new_code_cell("second = training()\n[s.state for s in second.steps]"),
    new_code_cell("%zenml artifacts ls training"),
    new_code_cell("%zenml runs list training"),
    new_code_cell("%zenml stack set default"),
]

for i, cell in enumerate(remote_cells):
    cell["id"] = f"remote-{i:02d}"
nb = new_notebook(cells=remote_cells, metadata={"kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"}})
nbformat.write(nb, "mysql-gcs-dask.ipynb")

