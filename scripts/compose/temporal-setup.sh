#!/bin/sh
# Runs in temporalio/admin-tools once the Temporal server is healthy (docker-compose.yml): creates
# the namespace and registers the search attributes the retail24 workflows set (the same list as
# common/constants.ts SEARCH_ATTRIBUTES and scripts/stack/health.ts). Idempotent.
set -eu
ADDR="${TEMPORAL_ADDRESS:-temporal:7233}"
NS="${TEMPORAL_NAMESPACE:-default}"

i=0
until temporal operator cluster health --address "$ADDR" >/dev/null 2>&1; do
  i=$((i + 1))
  [ "$i" -lt 60 ] || { echo "temporal-setup: $ADDR not healthy after 120s" >&2; exit 1; }
  sleep 2
done

temporal operator namespace describe --address "$ADDR" -n "$NS" >/dev/null 2>&1 \
  || temporal operator namespace create --address "$ADDR" -n "$NS" --retention 30d

# One call per attribute: --type is a single value per call. `create` succeeds when the attribute
# already exists with the same type (checked with CLI 1.9.1), so restarts are harmless.
# A namespace just created reaches the server's namespace cache only after its refresh (about
# 10 s): retry until the attribute call sees it.
for pair in ModelName:Keyword ModelVersion:Int TriggerReason:Keyword RunOutcome:Keyword; do
  i=0
  until temporal operator search-attribute create --address "$ADDR" --namespace "$NS" \
      --name "${pair%%:*}" --type "${pair##*:}"; do
    i=$((i + 1))
    [ "$i" -lt 30 ] || { echo "temporal-setup: cannot register ${pair%%:*} on $NS" >&2; exit 1; }
    sleep 2
  done
done
echo "temporal-setup: namespace $NS and search attributes ready"
