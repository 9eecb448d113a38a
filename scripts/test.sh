#!/usr/bin/env bash
# THE test command (`npm test`, and CI through .ci/run). On a new machine it installs what is
# missing (node_modules, Temporal CLI, FerretDB), then runs typecheck, lint (when configured) and
# vitest, and ends with the plain line `N passed, N failed` (skipped tests on the line before) computed from vitest's
# JSON report. Exits non-zero on any failed step or test, and when no test ran at all.
# Extra arguments go to vitest, e.g. `npm test -- test/unit/ml`.
# `npm test -- --fast` runs the unit project alone (pure tests, no servers, no installs beyond npm
# packages, no static checks): the loop to run while editing; under 30 s on a 2-core machine.
set -uo pipefail

fast=0
if [ "${1:-}" = "--fast" ]; then
  fast=1
  shift
fi

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
REPORT="test-artifacts/vitest.json"
failed_steps=()

step() { printf '\n== test.sh: %s\n' "$*"; }
die() { printf 'test.sh: FAILED: %s\n' "$*" >&2; printf '0 passed, 0 failed\n'; exit 1; }

# ------------------------------------------------------------ dependencies
# node_modules/.package-lock.json is npm's own record of the last install: older than
# package-lock.json means the tree is stale.
if [ ! -d node_modules ] || [ ! -f node_modules/.package-lock.json ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  step "npm ci"
  npm ci --no-audit --no-fund || die "npm ci"
fi
if [ "$fast" = 1 ]; then
  step "vitest --project unit (--fast: no servers, no static checks)"
  # Pure tests can share one module graph per thread (vitest takes isolate from the command line,
  # not per project): importing the product once per file was a third of the time.
  # A fixed pool (min = max threads): with fewer kept alive, tinypool ends idle threads between
  # files and, without isolation, that surfaces as an unhandled "Terminating worker thread" after
  # every test passed (vitest-dev/vitest#8564), failing the command; 2 threads took 15 s, 3 took 17.
  exec node_modules/.bin/vitest run --project unit --pool threads --no-isolate --minWorkers 2 --maxWorkers 2 "$@"
fi
step "install-tools"
bash scripts/install-tools.sh || die "scripts/install-tools.sh (see the line above)"

# The browser test drives Debian's Chromium; install it where we may (root + apt). If that fails,
# the browser test skips with its reason printed, and everything else still runs.
if ! command -v chromium >/dev/null 2>&1 && [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
  step "install chromium (Debian) for the browser test"
  { timeout 600 apt-get update -qq && DEBIAN_FRONTEND=noninteractive timeout 900 apt-get install -y -qq --no-install-recommends chromium; } >/tmp/retail24-chromium-install.log 2>&1 \
    || echo "test.sh: chromium install failed (log /tmp/retail24-chromium-install.log); the browser test will skip"
fi

# ------------------------------------------------------------ static checks
step "typecheck (tsc --noEmit)"
npx tsc --noEmit -p tsconfig.json || failed_steps+=("typecheck")

if compgen -G "eslint.config.*" >/dev/null; then
  step "lint (eslint)"
  npx eslint . || failed_steps+=("lint")
else
  step "lint skipped: no eslint.config.* in the repo"
fi

step "import direction (dependency-cruiser, .dependency-cruiser.cjs)"
npm run --silent lint:layers || failed_steps+=("import direction")

# ------------------------------------------------------------ tests
step "vitest"
mkdir -p test-artifacts
rm -f "$REPORT"
# A hung test (e.g. a worker process that never exits) must not hold CI until its own limit: the
# run is bounded, and the stack's supervisors stop the servers once vitest is gone.
limit="${RETAIL24_TEST_TIMEOUT_S:-1200}"
timeout --kill-after=30 "$limit" node_modules/.bin/vitest run \
  --reporter=default --reporter=json --outputFile.json="$REPORT" "$@"
vitest_rc=$?
case "$vitest_rc" in
  0) ;;
  124|137) failed_steps+=("vitest did not finish within ${limit}s (RETAIL24_TEST_TIMEOUT_S)") ;;
  *) failed_steps+=("vitest (exit $vitest_rc)") ;;
esac

summary="$(node -e '
  const fs = require("fs");
  let r;
  try { r = JSON.parse(fs.readFileSync(process.argv[1], "utf8")); }
  catch { console.log("0 passed, 0 failed\tnoreport"); process.exit(0); }
  // A file that fails to load has no failed test but must still count as a failure.
  const brokenFiles = (r.testResults || []).filter((f) => f.status === "failed"
    && !(f.assertionResults || []).some((a) => a.status === "failed")).length;
  const failed = r.numFailedTests + brokenFiles;
  const skipped = (r.numPendingTests || 0) + (r.numTodoTests || 0);
  console.log(`${r.numPassedTests} passed, ${failed} failed\t${r.numTotalTests}\t${skipped}`);
' "$REPORT")"
line="${summary%%$'\t'*}"
rest="${summary#*$'\t'}"
total="${rest%%$'\t'*}"
skipped="${rest#*$'\t'}"
[ "$skipped" = "$rest" ] && skipped=0

[ "$total" = "noreport" ] && failed_steps+=("no vitest JSON report at $REPORT")
[ "$total" = "0" ] && failed_steps+=("no tests ran")

echo
# skipped tests on a line of their own: the last line stays the plain `N passed, N failed`
[ "$skipped" != "0" ] && printf '%s skipped\n' "$skipped"
if [ "${#failed_steps[@]}" -gt 0 ]; then
  joined="$(printf '%s; ' "${failed_steps[@]}")"
  printf 'test.sh: FAILED: %s\n' "${joined%; }"
  printf '%s\n' "$line"
  exit 1
fi
printf '%s\n' "$line"
