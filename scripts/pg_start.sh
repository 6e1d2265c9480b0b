#!/usr/bin/env bash
# Starts a throwaway PostgreSQL 15 (Debian's postgresql-15) on a free loopback port, its cluster
# in a new temporary folder owned by the postgres user, and prints the variables the tests read:
#   eval "$(scripts/pg_start.sh)"      ...      "$LOOM_PG_BIN/pg_ctl" -D "$LOOM_PG_DATA" stop (as postgres)
set -euo pipefail
bin=${LOOM_PG_BIN:-/usr/lib/postgresql/15/bin}
[ -x "$bin/initdb" ] || { echo "no PostgreSQL in $bin: apt-get install postgresql-15" >&2; exit 1; }
data=$(mktemp -d /tmp/loom-pg.XXXXXX)
chown postgres: "$data"
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])' 2>/dev/null ||
	shuf -i 20000-60000 -n 1)
as_pg() { if [ "$(id -un)" = postgres ]; then "$@"; else runuser -u postgres -- "$@"; fi; }
as_pg "$bin/initdb" -D "$data/db" -U loom --auth=trust >/dev/null
as_pg "$bin/pg_ctl" -D "$data/db" -l "$data/log" -o "-p $port -k $data -c listen_addresses=127.0.0.1" -w start >/dev/null
as_pg "$bin/createdb" -h 127.0.0.1 -p "$port" -U loom loom
echo "export LOOM_PG_BIN=$bin LOOM_PG_DATA=$data/db LOOM_PG_URL=postgres://loom@127.0.0.1:$port/loom"
