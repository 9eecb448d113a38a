#!/usr/bin/env bash
# The README's main command (`npm run up`): installs what is missing (node_modules, Temporal CLI,
# FerretDB), then hands over to `retail24 up`, which starts or connects to the services, trains
# on the bundled sample and serves. Arguments go to `retail24 up`.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"

if [ ! -d node_modules ] || [ ! -f node_modules/.package-lock.json ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  echo "up.sh: installing npm dependencies (npm ci)"
  npm ci --no-audit --no-fund || { echo "up.sh: FAILED: npm ci" >&2; exit 1; }
fi
bash scripts/install-tools.sh || { echo "up.sh: FAILED: scripts/install-tools.sh (see the line above)" >&2; exit 1; }
exec node bin/retail24.mjs up "$@"
