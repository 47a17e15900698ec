#!/usr/bin/env bash
# Installs everything the test suite needs, system packages included, then runs all of it:
# lint, types, the strict site build and pytest. Extra arguments go to pytest.
set -euo pipefail
cd "$(dirname "$0")/.."

packages=(hunspell hunspell-fr chromium fonts-dejavu-core shellcheck)
missing=()
for package in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "ok installed" || missing+=("$package")
done
if ((${#missing[@]})); then
  sudo=""
  [ "$(id -u)" = 0 ] || sudo=sudo
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

lab/lab install  # the registry lab's Debian packages (docker-registry, podman, …)
python3 -m pip install -q --disable-pip-version-check -e '.[test]'

echo "== ruff" && ruff check . && ruff format --check .
echo "== mypy" && mypy mkdocs_execute
echo "== mkdocs build --strict"
site=$(mktemp -d)
trap 'rm -rf "$site"' EXIT
mkdocs build --strict --quiet -d "$site"
echo "== README examples (pytest-markdown-docs)"
python3 -m pytest --markdown-docs -q -p no:cacheprovider README.md
echo "== the dependency floors (tests/floors.txt), in an environment of their own"
floors=$(mktemp -d)
trap 'rm -rf "$site" "$floors"' EXIT
python3 -m venv "$floors"
"$floors/bin/python" -m pip install -q --disable-pip-version-check -r tests/floors.txt pytest pytest-xdist
"$floors/bin/python" -m pip install -q --disable-pip-version-check --no-deps -e .
NO_MKDOCS_2_WARNING=1 "$floors/bin/python" -m pytest -q -n 2 -p no:cacheprovider tests/test_build.py \
  tests/test_dialects.py tests/test_transparency.py tests/test_layers.py tests/test_parsing.py
python3 -m pip install -q --disable-pip-version-check --no-deps -e .  # the editable install points here again
echo "== pytest"
python3 -m pytest -n 2 "$@"
