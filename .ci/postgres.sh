#!/usr/bin/env bash
# Starts Debian's PostgreSQL and makes the database the PostgreSQL variant of the tests uses.
set -euo pipefail
cd /  # su postgres cannot enter a checkout under a private temp folder
version=$(ls /usr/lib/postgresql | sort -n | tail -1)
if ! pg_lsclusters -h | awk '{print $1" "$2}' | grep -q "^$version main$"; then
  pg_createcluster "$version" main >/dev/null
fi
pg_ctlcluster "$version" main start 2>/dev/null || true
for _ in $(seq 1 30); do pg_isready -q -h 127.0.0.1 && break; sleep 1; done
su postgres -c "psql -qtAc \"select 1 from pg_roles where rolname = 'plutarc'\"" | grep -q 1 ||
  su postgres -c "psql -qc \"create role plutarc login password 'plutarc-test' createdb\""
su postgres -c "psql -qtAc \"select 1 from pg_database where datname = 'plutarc_test'\"" | grep -q 1 ||
  su postgres -c "createdb -O plutarc plutarc_test"
