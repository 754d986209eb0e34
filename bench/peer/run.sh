#!/usr/bin/env bash
# izgraph against PostGraphile v4 on one PostgreSQL database seeded with 20,000 persons by
# `izgraph seed` (see README, Benchmarks). Rerunnable: the database is created and seeded
# once, then reused.
#
#   bench/peer/run.sh [--duration S] [--rounds N] [--connections C] [--only by_id|search]
#
# PEER_DATABASE_URL (default postgres://postgres@127.0.0.1:5432/izgraph_peer), REDIS_URL
# (default redis://127.0.0.1:6379), IZGRAPH_BIN (default target/release/izgraph, built when
# missing).
set -euo pipefail
cd "$(dirname "$0")/../.."
url=${PEER_DATABASE_URL:-postgres://postgres@127.0.0.1:5432/izgraph_peer}
admin=${url%/*}/postgres
name=${url##*/}
bin=${IZGRAPH_BIN:-target/release/izgraph}
[ -x "$bin" ] || cargo build --release -p gateway
[ -d bench/peer/node_modules ] || (cd bench/peer && npm ci --no-audit --no-fund)
if [ -z "$(psql "$admin" -Atc "SELECT 1 FROM pg_database WHERE datname = '$name'")" ]; then
  psql "$admin" -qc "CREATE DATABASE $name"
fi
# Migrations (the server's own), then the seed: it adds nothing when it already ran.
DATABASE_URL=$url IZGRAPH_DATA_DIR=$(mktemp -d) "$bin" migrate
if [ "$(psql "$url" -Atc 'SELECT count(*) FROM persons')" -lt 20000 ]; then
  DATABASE_URL=$url IZGRAPH_DATA_DIR=$(mktemp -d) "$bin" seed --persons 20000 --seed 1
fi
psql "$url" -q -v ON_ERROR_STOP=1 -f bench/peer/setup.sql
psql "$url" -qc 'ANALYZE'
exec node bench/peer/bench.mjs --database "$url" --redis "${REDIS_URL:-redis://127.0.0.1:6379}" --izgraph "$bin" "$@"
