#!/bin/sh
# Runs in temporalio/admin-tools before the Temporal server starts (docker-compose.yml):
# creates the two PostgreSQL databases on the first run and applies schema updates on every run,
# so an existing volume is upgraded in place when the server image is bumped.
set -eu
PLUGIN=postgres12
EP="${POSTGRES_SEEDS:-postgresql}"
PORT="${DB_PORT:-5432}"
USER="${POSTGRES_USER:-temporal}"
export SQL_PASSWORD="${POSTGRES_PWD:-temporal}"

for db in temporal temporal_visibility; do
  case "$db" in
    temporal) dir=/etc/temporal/schema/postgresql/v12/temporal/versioned ;;
    *) dir=/etc/temporal/schema/postgresql/v12/visibility/versioned ;;
  esac
  # `create` fails when the database exists (a restart on a kept volume): that is the expected case.
  temporal-sql-tool --plugin "$PLUGIN" --ep "$EP" -p "$PORT" -u "$USER" --db "$db" create \
    || echo "temporal-schema: database $db exists"
  temporal-sql-tool --plugin "$PLUGIN" --ep "$EP" -p "$PORT" -u "$USER" --db "$db" setup-schema -v 0.0
  temporal-sql-tool --plugin "$PLUGIN" --ep "$EP" -p "$PORT" -u "$USER" --db "$db" update-schema -d "$dir"
done
echo "temporal-schema: done"
