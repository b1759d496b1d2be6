#!/usr/bin/env bash
# The JupyterHub test's environment, as a hub admin installs it: a venv every user can run (built
# from Debian's /usr/bin/python3 under a world-readable folder; pyenv's Python lives under /root),
# with JupyterHub and the zenml-notebook *wheel* (built from this checkout, labextension included)
# at the same library versions as the suite's venv, and configurable-http-proxy from npm.
# Usage: .ci/hub-env.sh DEST VENV
set -euo pipefail
dest=$1
venv=$2
rm -rf "$dest"
mkdir -p "$dest"
chmod 755 "$dest"
/usr/bin/python3 -m venv "$dest/venv"
"$dest/venv/bin/python" -m pip install --quiet --upgrade pip
# the same versions as the suite's venv, except soupsieve (4.x needs Python >= 3.11.5; Debian has 3.11.2)
"$venv/bin/python" -m pip freeze --exclude-editable | grep -v -i -E '^(zenml-notebook|soupsieve)==' > "$dest/constraints.txt"
PATH="$(pwd)/$venv/bin:$PATH" "$venv/bin/python" -m pip wheel --quiet --no-deps -w "$dest/dist" .
wheel=$(ls "$dest"/dist/zenml_notebook-*.whl)
"$dest/venv/bin/python" -m pip install --quiet -c "$dest/constraints.txt" "${wheel}[postgresql]" "jupyterhub==6.1.*" jupyterlab
(cd "$dest" && npm install --silent --no-audit --no-fund --prefix "$dest" configurable-http-proxy@5.3.0)
chmod -R a+rX "$dest"
touch "$dest/.installed"
