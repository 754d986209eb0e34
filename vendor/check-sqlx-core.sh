#!/usr/bin/env bash
# Shows that vendor/sqlx-core is the sqlx-core 0.9.0 crates.io release plus exactly the marked
# hunk in vendor/sqlx-core.patch (TCP_NODELAY, upstream launchbadge/sqlx#4336): the release
# (from Cargo's download cache, else crates.io) is checked against the registry's checksum,
# patched, and compared file by file with the vendored copy. Exits 1 on any other difference.
set -euo pipefail
cd "$(dirname "$0")"

VERSION=0.9.0
# The `cksum` of sqlx-core 0.9.0 in the crates.io index.
SHA256=05b44e85bf579a8eeb4ceaa77a3a523baf2bf0e9bac7e40f405d537b5d2d5ccb

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
crate=$(ls "${CARGO_HOME:-$HOME/.cargo}"/registry/cache/*/sqlx-core-$VERSION.crate 2>/dev/null | head -n1 || true)
if [ -z "$crate" ]; then
  crate="$work/sqlx-core-$VERSION.crate"
  curl -sSfL -o "$crate" "https://static.crates.io/crates/sqlx-core/sqlx-core-$VERSION.crate"
fi
echo "$SHA256  $crate" | sha256sum -c --quiet -

tar -xzf "$crate" -C "$work"
release="$work/sqlx-core-$VERSION"
grep -q '^+.*izgraph patch' sqlx-core.patch || { echo "the patch lost its marker"; exit 1; }
patch -s -p1 -d "$release" < sqlx-core.patch
# Cargo adds these to a package; a vendored source does not need them.
rm -f "$release/.cargo_vcs_info.json" "$release/Cargo.lock"
if ! diff -r "$release" sqlx-core; then
  echo "vendor/sqlx-core differs from sqlx-core $VERSION beyond vendor/sqlx-core.patch"
  exit 1
fi
echo "vendor/sqlx-core = sqlx-core $VERSION + vendor/sqlx-core.patch"
