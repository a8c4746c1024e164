#!/usr/bin/env bash
# The README's two quick-start commands:
#   tools/dev.sh run    install what is missing, build, start the broker
#   tools/dev.sh test   install what is missing, build, run every test
# On Debian 12 as root (or with sudo). Safe to run again: it installs only
# missing packages and builds incrementally in ./build.
set -euo pipefail
cd "$(dirname "$0")/.."

PACKAGES=(
  g++ cmake make pkg-config
  libzmq3-dev cppzmq-dev libmsgpack-cxx-dev liblmdb-dev libspdlog-dev
  libcli11-dev nlohmann-json3-dev libgtest-dev
  python3 python3-zmq python3-msgpack   # conformance vectors and the Python binding
  beanstalkd                            # the peer ledgerq-bench measures against
)

install_missing() {
  local missing=()
  for p in "${PACKAGES[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
  done
  [ ${#missing[@]} -eq 0 ] && return 0
  echo "installing: ${missing[*]}"
  local sudo=""
  [ "$(id -u)" -ne 0 ] && sudo="sudo"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}"
}

build() {
  cmake -S . -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo -DLEDGERQ_WERROR=ON > build.log 2>&1 \
    || { cat build.log; exit 1; }
  cmake --build build -j"$(nproc)" >> build.log 2>&1 || { tail -60 build.log; exit 1; }
  echo "built ($(nproc) cores); log in build.log"
}

case "${1:-}" in
  run)
    shift
    install_missing
    build
    # Embedded default: ./ledgerq-data and loopback ports 5555-5557.
    exec build/broker/ledgerq-broker --data ledgerq-data "$@"
    ;;
  test)
    install_missing
    build
    ctest --test-dir build --output-on-failure -j"$(nproc)" --timeout 300
    ;;
  *)
    echo "usage: tools/dev.sh run [broker flags...] | tools/dev.sh test" >&2
    exit 2
    ;;
esac
