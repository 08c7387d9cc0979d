#!/usr/bin/env bash
# Runs PgBouncer 1.24.1 on 127.0.0.1:6432 in transaction pooling mode in front of the PostgreSQL on 127.0.0.1:5432.
# Usage: .ci/pgbouncer.sh [postgres-user]  (default: the first of postgres, root that can connect)
# Prints POOLER_URL=postgres://<user>@127.0.0.1:6432. Safe to run again: an identical running one is kept.
#
# Debian bookworm packages PgBouncer 1.18, which cannot track protocol-level named prepared statements (sqlx's) in
# transaction mode (max_prepared_statements came in 1.21), so 1.24.1 is built from Debian's source tarball and cached.
# The first build takes about 20 s on 2 cores (apt-get included); later runs reuse it and take about 0.2 s.
set -euo pipefail
export PGCONNECT_TIMEOUT=5 # something silent on a port must not hang psql

version=1.24.1
sha256=da72a3aba13072876d055a3e58dd4aba4a5de4ed6148e73033185245598fd3e0
url="http://deb.debian.org/debian/pool/main/p/pgbouncer/pgbouncer_${version}.orig.tar.gz"
prefix="${XDG_CACHE_HOME:-$HOME/.cache}/observatory-ci/pgbouncer-${version}"
bin="$prefix/bin/pgbouncer"
run=/tmp/observatory-pgbouncer

user="${1:-}"
if [ -z "$user" ]; then
  for candidate in postgres root; do
    if psql -h 127.0.0.1 -p 5432 -U "$candidate" -d postgres -Atc 'select 1' >/dev/null 2>&1; then
      user=$candidate
      break
    fi
  done
  [ -n "$user" ] || { echo "no PostgreSQL user can connect to 127.0.0.1:5432" >&2; exit 1; }
fi

# Build once into the cache.
if ! "$bin" --version 2>/dev/null | grep -q "PgBouncer ${version}\b"; then
  missing=()
  for pkg in libevent-dev libssl-dev pkg-config make gcc; do
    dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q 'ok installed' || missing+=("$pkg")
  done
  if [ "${#missing[@]}" -gt 0 ]; then
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
  fi
  build=$(mktemp -d)
  trap 'rm -rf "$build"' EXIT
  curl -fsSL -o "$build/src.tar.gz" "$url"
  echo "${sha256}  $build/src.tar.gz" | sha256sum -c --quiet -
  tar -xzf "$build/src.tar.gz" -C "$build"
  (
    cd "$build/pgbouncer-${version}"
    ./configure -q --prefix="$prefix" --without-cares --without-systemd --without-pam >/dev/null
    make -s -j"$(nproc)" >/dev/null
    rm -rf "$prefix"
    make -s install >/dev/null
  )
  "$bin" --version | head -n 1
fi

# auth_type = any: clients need no password, every server login uses the forced user. PgBouncer refuses
# startup parameters it does not know, and sqlx sends extra_float_digits: hence ignore_startup_parameters.
config="[databases]
* = host=127.0.0.1 port=5432 user=${user}

[pgbouncer]
listen_addr = 127.0.0.1
listen_port = 6432
unix_socket_dir = ${run}
auth_type = any
admin_users = ${user}
pool_mode = transaction
max_prepared_statements = 500
max_client_conn = 2000
default_pool_size = 20
ignore_startup_parameters = extra_float_digits,options
logfile = ${run}/pgbouncer.log
pidfile = ${run}/pgbouncer.pid"
# PgBouncer refuses to run as root: started by root, it switches to the postgres system user itself.
if [ "$(id -u)" -eq 0 ]; then config="${config}
user = postgres"; fi

running_version() {
  psql -h 127.0.0.1 -p 6432 -U "$user" -d pgbouncer -Atc 'SHOW VERSION' 2>/dev/null || true
}

mkdir -p "$run"
# Keep a running one of this version, unless this script started it with another configuration.
if [ "$(running_version)" = "PgBouncer ${version}" ] \
  && { [ ! -f "$run/pgbouncer.ini" ] || [ "$config" = "$(cat "$run/pgbouncer.ini")" ]; }; then
  echo "PgBouncer ${version} already runs on 127.0.0.1:6432"
else
  # Stop the one this script started before (other version or configuration): SIGINT lets running transactions
  # finish (SIGTERM would wait for every client to leave), SIGQUIT ends it if that takes over 5 s.
  if pid=$(cat "$run/pgbouncer.pid" 2>/dev/null) && kill -0 "$pid" 2>/dev/null; then
    for signal in INT QUIT; do
      kill -s "$signal" "$pid" 2>/dev/null || true
      for _ in $(seq 1 50); do kill -0 "$pid" 2>/dev/null || break 2; sleep 0.1; done
    done
  fi
  if (exec 3<>/dev/tcp/127.0.0.1/6432) 2>/dev/null; then
    echo "port 6432 is taken by something this script did not start" >&2
    exit 1
  fi
  printf '%s\n' "$config" >"$run/pgbouncer.ini"
  [ "$(id -u)" -ne 0 ] || chown -R postgres: "$run"
  "$bin" -d "$run/pgbouncer.ini"
  for _ in $(seq 1 50); do [ -n "$(running_version)" ] && break; sleep 0.1; done
fi

psql -h 127.0.0.1 -p 6432 -U "$user" -d postgres -Atc 'select 1' >/dev/null \
  || { echo "PgBouncer does not answer; see $run/pgbouncer.log" >&2; exit 1; }
echo "POOLER_URL=postgres://${user}@127.0.0.1:6432"
