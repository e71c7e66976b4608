#!/bin/sh
# kubedrill's PostgreSQL image entrypoint (Debian's postgresql-15): on first start, initdb in
# $PGDATA (a subdirectory of the volume, so the volume's root may hold other files), with
# POSTGRES_USER / POSTGRES_PASSWORD / POSTGRES_DB as the official image reads them; then
# postgres in the foreground, listening on every address.
set -eu
: "${PGDATA:=/var/lib/postgresql/data/pgdata}"
: "${POSTGRES_USER:=postgres}"
: "${POSTGRES_DB:=$POSTGRES_USER}"
export PGDATA
if [ "${1:-postgres}" = postgres ]; then
  [ $# -gt 0 ] && shift
  mkdir -p "$PGDATA"
  chmod 0700 "$PGDATA"
  if [ ! -s "$PGDATA/PG_VERSION" ]; then
    echo "kubedrill-postgres: initdb in $PGDATA"
    pwfile=$(mktemp)
    printf '%s\n' "${POSTGRES_PASSWORD:-postgres}" >"$pwfile"
    auth=scram-sha-256
    [ -n "${POSTGRES_PASSWORD:-}" ] || auth=trust
    initdb -D "$PGDATA" -U "$POSTGRES_USER" --pwfile="$pwfile" --auth-local=trust --auth-host="$auth" \
      --encoding=UTF8 --locale=C.UTF-8 >/dev/null
    rm -f "$pwfile"
    printf "host all all all %s\n" "$auth" >>"$PGDATA/pg_hba.conf"
    if [ "$POSTGRES_DB" != postgres ]; then
      postgres --single -D "$PGDATA" -c listen_addresses='' postgres >/dev/null <<SQL
CREATE DATABASE "$POSTGRES_DB";
SQL
    fi
    echo "kubedrill-postgres: database cluster ready"
  fi
  exec postgres -D "$PGDATA" -c listen_addresses='*' -c unix_socket_directories=/var/run/postgresql "$@"
fi
exec "$@"
