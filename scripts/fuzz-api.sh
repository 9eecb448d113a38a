#!/usr/bin/env bash
# Fuzzes the running API with schemathesis from its own /openapi.json: every response must be
# documented, never a 500. Usage: scripts/fuzz-api.sh [BASE_URL] [API_TOKEN]
#   BASE_URL  default http://127.0.0.1:8080 (start one with `retail24 up` or `retail24 api`)
#   API_TOKEN default $API_TOKEN; sent as a bearer token so mutating endpoints are exercised too
# schemathesis lives in its own venv under .tools/ (installed on first use).
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
base="${1:-http://127.0.0.1:8080}"
token="${2:-${API_TOKEN:-}}"
venv="$root/.tools/venv-fuzz"
if [ ! -x "$venv/bin/st" ]; then
  python3 -m venv "$venv"
  "$venv/bin/pip" install -q 'schemathesis==3.39.16' 'hypothesis==6.127.9'
fi
auth=()
[ -n "$token" ] && auth=(-H "Authorization: Bearer $token")
exec "$venv/bin/st" run "$base/openapi.json" --base-url "$base" "${auth[@]}" \
  --checks not_a_server_error,status_code_conformance,content_type_conformance,response_schema_conformance \
  --hypothesis-max-examples "${FUZZ_EXAMPLES:-200}" --hypothesis-seed 42 --workers 2 --data-generation-method all
