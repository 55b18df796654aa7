#!/usr/bin/env bash
# Run a command against a throwaway PostgreSQL cluster, torn down afterwards.
# The cluster's URL is exported as LABELLOOP_TEST_DATABASE_URL.
set -euo pipefail

bin=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)
if [ -z "$bin" ] || [ ! -x "$bin/initdb" ]; then
  echo "PostgreSQL server binaries not found; run scripts/test-deps.sh" >&2
  exit 1
fi
dir=$(mktemp -d /tmp/labelloop-pg.XXXXXX)
port=${LABELLOOP_PG_PORT:-$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')}
as_pg=()
if [ "$(id -u)" = 0 ]; then
  chown postgres "$dir"
  as_pg=(runuser -u postgres --)
fi
cleanup() {
  "${as_pg[@]}" "$bin/pg_ctl" -D "$dir/data" -m immediate stop >/dev/null 2>&1 || true
  rm -rf "$dir"
}
trap cleanup EXIT
"${as_pg[@]}" "$bin/initdb" -D "$dir/data" -A trust -U labelloop >/dev/null
"${as_pg[@]}" "$bin/pg_ctl" -D "$dir/data" -l "$dir/log" -w start \
  -o "-k $dir -p $port -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=300" >/dev/null
"$bin/psql" -q "postgresql://labelloop@127.0.0.1:$port/postgres" -c "create database labelloop_test" >/dev/null
export LABELLOOP_TEST_DATABASE_URL="postgresql+psycopg://labelloop@127.0.0.1:$port/labelloop_test"
echo "PostgreSQL $("$bin/postgres" --version | awk '{print $3}') on port $port" >&2
"$@"
