#!/usr/bin/env bash
# deps.sh installs and starts what the test suite needs on a Debian machine, idempotently:
# PostgreSQL 15 with pgvector (built from Debian's own source package of the next release,
# through a private apt configuration so the system's sources stay untouched) and Chromium.
# Run as root. Safe to run again: every step checks before it acts.
set -euo pipefail

PGVER=${PGVER:-15}
CACHE=${TANDEM_DEPS_CACHE:-/var/cache/tandem-deps}
log() { printf 'deps: %s\n' "$*" >&2; }

apt_updated=
apt_install() {
  local missing=()
  for p in "$@"; do dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p"); done
  [ ${#missing[@]} -eq 0 ] && return 0
  if [ -z "$apt_updated" ]; then apt-get update -qq; apt_updated=1; fi
  log "installing ${missing[*]}"
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
}

# PostgreSQL server.
if ! command -v pg_ctlcluster >/dev/null 2>&1 || [ ! -d "/usr/lib/postgresql/$PGVER" ]; then
  apt_install "postgresql-$PGVER"
fi
if ! pg_isready -h 127.0.0.1 -p 5432 -q; then
  log "starting PostgreSQL"
  pg_ctlcluster --skip-systemctl-redirect "$PGVER" main start || true
  for _ in $(seq 1 30); do pg_isready -h 127.0.0.1 -p 5432 -q && break; sleep 1; done
fi

# pgvector, from Debian trixie's source package, built against this server.
if [ ! -f "/usr/share/postgresql/$PGVER/extension/vector.control" ]; then
  apt_install "postgresql-server-dev-$PGVER" build-essential dpkg-dev
  mkdir -p "$CACHE/lists/partial" "$CACHE/src"
  echo "deb-src http://deb.debian.org/debian trixie main" > "$CACHE/trixie-src.list"
  aptopts=(-oDir::Etc::SourceList="$CACHE/trixie-src.list" -oDir::Etc::SourceParts=/dev/null
           -oDir::State::Lists="$CACHE/lists" -oAPT::Get::List-Cleanup=0)
  apt-get "${aptopts[@]}" update -qq
  (cd "$CACHE/src" && rm -rf pgvector-* && apt-get "${aptopts[@]}" source --download-only pgvector >/dev/null \
     && dpkg-source -x --no-check pgvector_*.dsc >/dev/null)
  dir=$(find "$CACHE/src" -maxdepth 1 -type d -name 'pgvector-*' | head -1)
  log "building pgvector in $dir"
  make -s -C "$dir" PG_CONFIG="/usr/lib/postgresql/$PGVER/bin/pg_config" >/dev/null
  make -s -C "$dir" PG_CONFIG="/usr/lib/postgresql/$PGVER/bin/pg_config" install >/dev/null
fi

# The test database.
if ! psql -h 127.0.0.1 -U postgres -Atqc "select 1 from pg_database where datname='test'" postgres | grep -q 1; then
  psql -h 127.0.0.1 -U postgres -qc "create database test" postgres
fi
PGOPTIONS="-c client_min_messages=warning" psql -h 127.0.0.1 -U postgres -qc "create extension if not exists vector" test

# Chromium for browser tests.
command -v chromium >/dev/null 2>&1 || apt_install chromium
log "ready"
