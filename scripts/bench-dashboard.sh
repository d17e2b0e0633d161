#!/usr/bin/env bash
# The dashboard's page times at 1 000 and 100 000 jobs on both queue backends (README, "Dashboard"): each run seeds
# an empty queue through the queue API, serves the dashboard and times HTTP requests (`avatarize bench dashboard`).
# PostgreSQL is a throwaway cluster in a temporary folder (Debian's postgresql package).
# Usage: swift build -c release --product avatarize && scripts/bench-dashboard.sh [path/to/avatarize]
#   SIZES="1000 100000" REPEATS=15 BACKENDS="sqlite postgres" SETTLE=75 to change what is measured (PostgreSQL is
#   measured right after seeding and again after SETTLE idle seconds, once autovacuum has been by).
set -euo pipefail
cd "$(dirname "$0")/.."
AV=$(realpath "${1:-.build/release/avatarize}")
SIZES=${SIZES:-"1000 100000"}
REPEATS=${REPEATS:-15}
BACKENDS=${BACKENDS:-"sqlite postgres"}
T=$(mktemp -d)
pg_bin=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1)
# PostgreSQL refuses to run as root: as root its tools run as the postgres user.
as_pg() { if [ "$(id -u)" -eq 0 ]; then su postgres -s /bin/sh -c "$*"; else sh -c "$*"; fi; }
cleanup() {
  if [ -f "$T/pg/data/postmaster.pid" ]; then as_pg "$pg_bin/pg_ctl -D $T/pg/data -m immediate -w stop" >/dev/null || true; fi
  rm -rf "$T"
}
trap cleanup EXIT

if [[ " $BACKENDS " == *" postgres "* ]]; then
  [ -n "$pg_bin" ] || { echo "PostgreSQL's server tools are missing (apt-get install postgresql)" >&2; exit 1; }
  mkdir -p "$T/pg"; chmod 755 "$T"
  [ "$(id -u)" -ne 0 ] || chown postgres "$T/pg"
  port=$((20000 + RANDOM % 20000))
  as_pg "$pg_bin/initdb -D $T/pg/data -U postgres --auth=trust -E UTF8 --no-sync" >/dev/null
  as_pg "$pg_bin/pg_ctl -D $T/pg/data -l $T/pg/log -w start -o '-p $port -k $T/pg -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off'" >/dev/null
fi

for n in $SIZES; do
  for backend in $BACKENDS; do
    if [ "$backend" = sqlite ]; then
      "$AV" bench dashboard --jobs "$n" --repeats "$REPEATS"
    else
      as_pg "$pg_bin/createdb -h $T/pg -p $port -U postgres bench_$n"
      "$AV" bench dashboard --queue "postgres://postgres@127.0.0.1:$port/bench_$n?sslmode=disable" --jobs "$n" --repeats "$REPEATS"
      # Again after autovacuum has been by (its naptime is a minute), as on a queue that has been up a while.
      echo
      as_pg "$pg_bin/createdb -h $T/pg -p $port -U postgres bench_${n}_settled"
      "$AV" bench dashboard --queue "postgres://postgres@127.0.0.1:$port/bench_${n}_settled?sslmode=disable" --jobs "$n" \
        --repeats "$REPEATS" --settle "${SETTLE:-75}"
    fi
    echo
  done
done
