#!/usr/bin/env bash
# Runs on 127.0.0.1:<port> a streaming hot-standby replica of the PostgreSQL 15 cluster on 127.0.0.1:5432.
# Usage: .ci/replica.sh [port (default 5433)] [recovery_min_apply_delay, e.g. 3s (default none)]
# Prints REPLICA_URL=postgres://<user>@127.0.0.1:<port>. Safe to run again: a streaming replica of this primary
# with the same settings is kept; anything else in its data directory is stopped and rebuilt (a few seconds).
#
# No replication slot: the base backup streams its own WAL (-X stream) and the replica streams continuously after
# it, while a slot left behind by a deleted /tmp replica would make the primary keep WAL forever.
set -euo pipefail
cd /tmp # the postgres OS user may not read the caller's directory
export PGCONNECT_TIMEOUT=5 # something silent on a port must not hang psql

port="${1:-5433}"
delay="${2:-0}"
bin=/usr/lib/postgresql/15/bin
data="/tmp/observatory-replica-${port}"

user=""
for candidate in postgres root; do
  if psql -h 127.0.0.1 -p 5432 -U "$candidate" -d postgres -Atc 'select 1' >/dev/null 2>&1; then
    user=$candidate
    break
  fi
done
[ -n "$user" ] || { echo "no PostgreSQL user can connect to 127.0.0.1:5432" >&2; exit 1; }
primary() { psql -h 127.0.0.1 -p 5432 -U "$user" -d postgres -Atc "$1"; }
replica() { psql -h 127.0.0.1 -p "$port" -U "$user" -d postgres -Atc "$1" 2>/dev/null || true; }
# PostgreSQL refuses to run as root: the replica belongs to the postgres OS user.
as_postgres() { if [ "$(id -u)" -eq 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi; }

# The primary must allow replication connections from 127.0.0.1. Its Debian pg_hba.conf trusts 127.0.0.1 for
# "all" databases only, which does not cover replication: add a trust line for it (a reload, no restart).
can_replicate() {
  psql "host=127.0.0.1 port=5432 user=$user dbname=postgres replication=true" -Atc IDENTIFY_SYSTEM >/dev/null 2>&1
}
if ! can_replicate; then
  if [ "$(primary 'show wal_level')" = minimal ] || [ "$(primary 'show max_wal_senders')" -eq 0 ]; then
    echo "the primary needs wal_level = replica and max_wal_senders > 0 (a restart)" >&2
    exit 1
  fi
  echo 'host replication all 127.0.0.1/32 trust' >>"$(primary 'show hba_file')"
  primary 'select pg_reload_conf()' >/dev/null
  for _ in $(seq 1 50); do can_replicate && break; sleep 0.1; done
  can_replicate || { echo "the primary still refuses replication connections" >&2; exit 1; }
fi

# The replica's own configuration (Debian keeps the primary's in /etc, outside the base backup). A hot standby
# needs these limits at least as high as the primary's, so they are copied. fsync = off (with pg_basebackup's
# --no-sync) saves some 10 s of syncing a throwaway copy; one that stopped, e.g. in a crash, is rebuilt anyway.
config="port = ${port}
listen_addresses = '127.0.0.1'
unix_socket_directories = '${data}'
cluster_name = 'observatory-replica-${port}'
hot_standby = on
hot_standby_feedback = on
recovery_min_apply_delay = '${delay}'
fsync = off
$(primary "select string_agg(format('%s = %s', name, setting), E'\n' order by name) from pg_settings where name in
  ('max_connections', 'max_worker_processes', 'max_wal_senders', 'max_prepared_transactions',
   'max_locks_per_transaction')")"
# In recovery, streaming from this very primary, with this configuration.
expected="t|streaming|$(primary 'select system_identifier from pg_control_system()')"
state() { replica 'select pg_is_in_recovery(), (select status from pg_stat_wal_receiver), system_identifier
  from pg_control_system()'; }

if [ "$(state)" = "$expected" ] && [ "$config" = "$(cat "$data/postgresql.conf" 2>/dev/null)" ]; then
  echo "the replica on 127.0.0.1:${port} already streams"
else
  if [ -f "$data/postmaster.pid" ]; then
    as_postgres "$bin/pg_ctl" -D "$data" stop -m immediate >/dev/null || true
  fi
  if (exec 3<>/dev/tcp/127.0.0.1/"$port") 2>/dev/null; then
    echo "port ${port} is taken by something this script did not start" >&2
    exit 1
  fi
  rm -rf "$data"
  # -c fast: checkpoint at once instead of spreading it over minutes; -R: standby.signal and primary_conninfo.
  as_postgres "$bin/pg_basebackup" -h 127.0.0.1 -p 5432 -U "$user" -D "$data" -R -X stream -c fast --no-sync
  printf '%s\n' "$config" >"$data/postgresql.conf"
  printf '%s\n' 'local all all trust' 'host all all 127.0.0.1/32 trust' >"$data/pg_hba.conf"
  : >"$data/pg_ident.conf"
  [ "$(id -u)" -ne 0 ] || chown postgres: "$data"/{postgresql.conf,pg_hba.conf,pg_ident.conf}
  as_postgres "$bin/pg_ctl" -D "$data" -l "$data/replica.log" -w -t 60 start >/dev/null
  for _ in $(seq 1 100); do [ "$(state)" = "$expected" ] && break; sleep 0.1; done
  [ "$(state)" = "$expected" ] || { echo "the replica does not stream; see $data/replica.log" >&2; exit 1; }
fi

echo "REPLICA_URL=postgres://${user}@127.0.0.1:${port}"
