#!/usr/bin/env bash
# Runs README.md's "Secure setup" block as written, in a scratch directory
# whose build/ is this build tree, and checks what it printed: the admin
# created the datasource, the client's ds create was refused (exit 5), the
# worker leased the job under its own name.
#   readme_secure_setup.sh README.md BUILD_DIR
set -euo pipefail
readme=$(realpath "$1")
build=$(realpath "$2")
work=$(mktemp -d)
cleanup() {
  pkill -f -- "--data secure/data --curve-secret" 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT

block=$(awk '/^## Secure setup/ {in_section = 1}
             in_section && /^```sh/ {in_block = 1; next}
             in_block && /^```/ {exit}
             in_block {print}' "$readme")
[ -n "$block" ] || { echo "no sh block under '## Secure setup' in $readme"; exit 1; }

cd "$work"
ln -s "$build" build
out=$(bash -euo pipefail -c "$block" 2>&1) || { echo "$out"; echo "the block failed"; exit 1; }
echo "$out"

expect() {
  grep -q -- "$1" <<<"$out" || { echo "missing from the output: $1"; exit 1; }
}
expect '"created":true'
expect 'refused: exit 5'
expect '"worker":"resizer:1"'
expect '"status":"accepted"'
echo "the Secure setup block ran as written"
