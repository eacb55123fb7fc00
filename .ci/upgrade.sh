#!/usr/bin/env bash
# The upgrade check (docs/deployment.md#upgrading): the previous release, built from git, makes a
# database through its API on SQLite and on PostgreSQL; this release upgrades it in place and
# must answer every list and get route as the previous one did. Then the previous release and
# this one serve one PostgreSQL database together under load (this one migrating it while the
# previous one serves), the previous one is stopped, `usergroups recount` runs, and no request
# may have failed, every write must have stepped its ETag, and totals, ETags and the change feed
# must be right. The driver is examples/upgrade_check.rs.
#
# Usage: .ci/upgrade.sh [POSTGRES_URL]   (USERGROUPS_PREVIOUS_RELEASE: a commit or tag, 419071a)
set -euo pipefail
cd "$(dirname "$0")/.."

previous="${USERGROUPS_PREVIOUS_RELEASE:-419071a}"
pg_url="${1:-${TEST_DATABASE_URL:-postgres://postgres@127.0.0.1:5432/test}}"
target="${CARGO_TARGET_DIR:-$PWD/target}"
work="$(mktemp -d)"
schemas=()
servers=()

cleanup() {
  for pid in "${servers[@]}"; do kill "$pid" 2>/dev/null || true; done
  for schema in "${schemas[@]}"; do
    psql -q "$pg_url" -c "DROP SCHEMA IF EXISTS $schema CASCADE" >/dev/null 2>&1 || true
  done
  rm -rf "$work"
}
trap cleanup EXIT

echo "-- building the previous release ($previous) from git and this one"
mkdir "$work/previous"
git archive "$previous" | tar -x -C "$work/previous"
# The same target directory: the dependencies are the same builds. The previous binary is copied
# out before this release is built again over it.
(cd "$work/previous" && CARGO_TARGET_DIR="$target" cargo build --quiet --bin usergroups)
cp "$target/debug/usergroups" "$work/usergroups-previous"
touch src/main.rs
cargo build --quiet --bin usergroups --example upgrade_check
cp "$target/debug/usergroups" "$work/usergroups-new"
cp "$target/debug/examples/upgrade_check" "$work/driver"
if cmp -s "$work/usergroups-previous" "$work/usergroups-new"; then
  echo "the two builds are the same binary"; exit 1
fi

free_port() {
  python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# start NAME BINARY DIR DATABASE_URL PORT: serves in DIR, waits until it listens; its process id
# is left in $started.
start() {
  local name="$1" binary="$2" dir="$3" url="$4" port="$5"
  (cd "$dir" && DATABASE_URL="$url" RUST_LOG=info USERGROUPS_RATE_LIMIT_READS=0 \
    USERGROUPS_RATE_LIMIT_WRITES=0 exec "$binary" serve --bind "127.0.0.1:$port" \
    >"$work/$name.log" 2>&1) &
  started=$!
  servers+=("$started")
  for _ in $(seq 1 300); do
    if grep -q "listening on" "$work/$name.log"; then return; fi
    if ! kill -0 "$started" 2>/dev/null; then cat "$work/$name.log" >&2; return 1; fi
    sleep 0.1
  done
  echo "$name did not start" >&2; cat "$work/$name.log" >&2; return 1
}

# stop PID: SIGTERM, then waits for the drain.
stop() {
  kill -TERM "$1"
  wait "$1" || true
}

json_field() {
  python3 -c 'import json, sys; print(json.load(sys.stdin)[sys.argv[1]])' "$1"
}

# full_key BINARY DIR DATABASE_URL: a key with every permission, as "ID SECRET".
full_key() {
  local binary="$1" dir="$2" url="$3" org key
  org="$(json_field organizationId <"$dir/usergroups-credentials.json")"
  key="$(cd "$dir" && DATABASE_URL="$url" "$binary" key create --org "$org" --permissions \
    "user-groups:read,user-groups:write,user-groups:delete,users:read,users:write,users:delete,user-groups:read-deleted,user-groups:restore,users:read-deleted,users:restore,events:read")"
  echo "$(echo "$key" | json_field accessKeyId) $(echo "$key" | json_field secretAccessKey)"
}

new_pg_database() {
  local schema="upgrade_$$_$1"
  psql -q "$pg_url" -c "CREATE SCHEMA $schema" >/dev/null
  schemas+=("$schema")
  local separator='?'
  [[ "$pg_url" == *\?* ]] && separator='&'
  echo "${pg_url}${separator}options=-csearch_path%3D$schema"
}

# in_place NAME DATABASE_URL: the previous release makes the data, this one must answer the same.
in_place() {
  local name="$1" url="$2" dir="$work/$1" port pid key id secret
  mkdir -p "$dir"
  port="$(free_port)"
  start "$name-previous" "$work/usergroups-previous" "$dir" "$url" "$port"
  pid=$started
  key="$(full_key "$work/usergroups-previous" "$dir" "$url")"
  id="${key% *}"; secret="${key#* }"
  "$work/driver" seed "http://127.0.0.1:$port" "$id" "$secret"
  "$work/driver" record "http://127.0.0.1:$port" "$id" "$secret" "$work/$name-before.json"
  stop "$pid"
  start "$name-new" "$work/usergroups-new" "$dir" "$url" "$port"
  pid=$started
  "$work/driver" record "http://127.0.0.1:$port" "$id" "$secret" "$work/$name-after.json"
  "$work/driver" compare "$work/$name-before.json" "$work/$name-after.json"
  grep -q "retention: " "$work/$name-new.log" || { echo "no retention announcement"; exit 1; }
  if grep -q "retention purge:" "$work/$name-new.log"; then
    echo "the first start of the new release purged rows"; exit 1
  fi
  stop "$pid"
}

echo "-- in place on SQLite"
in_place sqlite "sqlite://$work/sqlite/usergroups.db"
echo "-- in place on PostgreSQL"
in_place postgres "$(new_pg_database in_place)"

echo "-- rolling on PostgreSQL: the previous release and this one under load"
url="$(new_pg_database rolling)"
dir="$work/rolling"
mkdir -p "$dir"
old_port="$(free_port)"
new_port="$(free_port)"
start rolling-previous "$work/usergroups-previous" "$dir" "$url" "$old_port"
old=$started
key="$(full_key "$work/usergroups-previous" "$dir" "$url")"
id="${key% *}"; secret="${key#* }"
"$work/driver" seed "http://127.0.0.1:$old_port" "$id" "$secret"
# The load goes to both addresses; the new one refuses connections until it starts, and a refused
# request goes to the other (as a load balancer would). The old one is drained (taken out of the
# rotation) a second before it is stopped, as the procedure says.
"$work/driver" load 16 "$id" "$secret" "$work/load.json" \
  "http://127.0.0.1:$old_port" "http://127.0.0.1:$new_port" &
load=$!
sleep 4
start rolling-new "$work/usergroups-new" "$dir" "$url" "$new_port"
new=$started
sleep 6
# The procedure's step 3: out of the load balancer's rotation first, then SIGTERM.
echo "http://127.0.0.1:$old_port" > "$work/load.json.drain"
sleep 1
stop "$old"
wait "$load"
(cd "$dir" && DATABASE_URL="$url" "$work/usergroups-new" recount)
"$work/driver" verify "http://127.0.0.1:$new_port" "$id" "$secret" "$work/load.json"
stop "$new"
echo "-- the upgrade check passed"
