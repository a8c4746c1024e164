#!/usr/bin/env bash
# Installs the build into a scratch prefix (twice, at two depths) and checks
# that every installed program finds its libraries and runs from there.
#   install_test.sh BUILD_DIR
set -euo pipefail
build=$1
scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT
programs=(ledgerq-broker ledgerq ledgerq-replay)
[ -x "$build/tools/web/ledgerq-web" ] && programs+=(ledgerq-web)  # built where cpp-httplib is installed
for prefix in "$scratch/p" "$scratch/deeper/opt/ledgerq"; do
  cmake --install "$build" --prefix "$prefix" > "$scratch/install.log" 2>&1 || { cat "$scratch/install.log"; exit 1; }
  for prog in "${programs[@]}"; do
    bin="$prefix/bin/$prog"
    [ -x "$bin" ] || { echo "not installed: $bin"; exit 1; }
    if ldd "$bin" | grep -q "not found"; then
      echo "$bin: a library is not found"; ldd "$bin"; exit 1
    fi
    "$bin" --help > /dev/null || { echo "$bin --help failed"; exit 1; }
    "$bin" --version | grep -Eqx "$prog [0-9]+\.[0-9]+\.[0-9]+" || { echo "$bin --version:"; "$bin" --version; exit 1; }
  done
  # The client library links against what it was built with, not the build tree.
  if ldd "$prefix/bin/ledgerq" | grep -q "$build"; then
    echo "ledgerq loads a library from the build tree:"; ldd "$prefix/bin/ledgerq"; exit 1
  fi
done
echo "installed and ran from two prefixes"
