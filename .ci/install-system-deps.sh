#!/usr/bin/env bash
# System packages the test suite needs (Debian): installed only when missing.
set -euo pipefail
need=()
[ -x /usr/sbin/mariadbd ] || command -v mariadbd >/dev/null 2>&1 || need+=(mariadb-server mariadb-client)
[ -x /usr/bin/chromium ] || need+=(chromium)          # the real browser for tests/ui (never `playwright install`)
command -v initdb >/dev/null 2>&1 || ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || need+=(postgresql)  # tests start their own server
/usr/bin/python3 -c 'import ensurepip, venv' >/dev/null 2>&1 || need+=(python3-venv)  # the hub test's venv every user can run
command -v npm >/dev/null 2>&1 || need+=(npm)  # configurable-http-proxy for the hub test
command -v node >/dev/null 2>&1 || need+=(nodejs)  # builds the JupyterLab extension (jlpm is bundled with jupyter-builder)
if [ ${#need[@]} -eq 0 ]; then
  exit 0
fi
SUDO=""
if [ "$(id -u)" != "0" ]; then
  command -v sudo >/dev/null 2>&1 || { echo "install ${need[*]} (needs root)" >&2; exit 1; }
  SUDO="sudo"
fi
echo "installing system packages: ${need[*]}"
$SUDO env DEBIAN_FRONTEND=noninteractive apt-get update -qq
$SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
