#!/usr/bin/env bash
# The README's two quick-start commands:
#   tools/dev.sh run    install what is missing, build what running needs
#                       (showing progress), start the broker
#   tools/dev.sh test   install what is missing, build, run every test, then
#                       again under ASan+UBSan, then the fuzz targets briefly
# On Debian 12 as root (or with sudo). Safe to run again: it installs only
# missing packages and builds incrementally in ./build.
set -euo pipefail
cd "$(dirname "$0")/.."

# What building needs (both commands).
PACKAGES=(
  g++ cmake make pkg-config
  libzmq3-dev cppzmq-dev libmsgpack-cxx-dev liblmdb-dev libspdlog-dev
  libcli11-dev nlohmann-json3-dev libgtest-dev
  libsystemd-dev                        # sd_notify: the service's readiness
  libjemalloc-dev                       # the broker's allocator
  libcpp-httplib-dev                    # ledgerq-web (tools/web)
  libhiredis-dev                        # ledgerq-bench's Redis side
)
# What only the tests need.
TEST_PACKAGES=(
  dpkg-dev systemd                      # cpack's .deb (dpkg-shlibdeps) and its test (systemd-analyze)
  python3 python3-zmq python3-msgpack   # conformance vectors and the Python binding
  python3-pip python3-setuptools python3-venv  # pip install tools/python (tested offline)
  beanstalkd redis-server               # the peers ledgerq-bench measures against
  clang libclang-rt-14-dev              # the libFuzzer targets (tests/fuzz)
  chromium chromium-driver python3-selenium  # the dashboard's browser test (tests/web/browser_test.py)
)

# Installs the packages named as arguments that are not installed yet.
install_missing() {
  local missing=()
  for p in "$@"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
  done
  [ ${#missing[@]} -eq 0 ] && return 0
  echo "installing: ${missing[*]}"
  local sudo=""
  [ "$(id -u)" -ne 0 ] && sudo="sudo"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}"
}

configure() {
  cmake -S . -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo -DLEDGERQ_WERROR=ON > build.log 2>&1 \
    || { cat build.log; exit 1; }
}

# Everything: the broker, the tools, the library, every test and benchmark.
build() {
  configure
  cmake --build build -j"$(nproc)" >> build.log 2>&1 || { tail -60 build.log; exit 1; }
  echo "built ($(nproc) cores); log in build.log"
}

# What running needs (broker, CLI, replay, dashboard, client library), with CMake's
# progress lines on the terminal as it goes.
build_to_run() {
  configure
  echo "building the broker, ledgerq, ledgerq-replay, ledgerq-web and the client library ($(nproc) cores; log in build.log)"
  if ! cmake --build build -j"$(nproc)" --target ledgerq-broker ledgerq ledgerq-replay ledgerq-web ledgerq_client 2>&1 \
      | tee -a build.log | sed -un 's/^\(\[ *[0-9]*%\] \(Building\|Linking\).*\)$/  \1/p'; then
    tail -60 build.log
    exit 1
  fi
}

# The same suites built with AddressSanitizer and UndefinedBehaviorSanitizer
# (every error fatal), in build-asan/; the benchmarks are left out (they
# measure, and take minutes under ASan).
sanitized() {
  local flags="-fsanitize=address,undefined -fno-sanitize-recover=undefined -fno-omit-frame-pointer"
  cmake -S . -B build-asan -DCMAKE_BUILD_TYPE=RelWithDebInfo -DLEDGERQ_BUILD_BENCH=OFF -DCMAKE_CXX_FLAGS="$flags" \
    -DCMAKE_EXE_LINKER_FLAGS="$flags" -DCMAKE_SHARED_LINKER_FLAGS="$flags" > build-asan.log 2>&1 \
    || { cat build-asan.log; exit 1; }
  echo "building with ASan+UBSan in build-asan/ (log in build-asan.log)"
  cmake --build build-asan -j"$(nproc)" >> build-asan.log 2>&1 || { tail -60 build-asan.log; exit 1; }
  ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1 \
    ctest --test-dir build-asan --output-on-failure -j"$(nproc)" --timeout 600
}

# The libFuzzer targets (tests/fuzz), built with clang in build-fuzz/, each
# run for LEDGERQ_FUZZ_SECONDS (default 10) from the conformance vectors.
fuzz() {
  local flags="-fsanitize=fuzzer-no-link,address,undefined -fno-sanitize-recover=undefined"
  cmake -S . -B build-fuzz -DCMAKE_CXX_COMPILER=clang++ -DCMAKE_BUILD_TYPE=RelWithDebInfo -DLEDGERQ_FUZZ=ON \
    -DLEDGERQ_BUILD_TESTS=OFF -DLEDGERQ_FUZZ_SECONDS="${LEDGERQ_FUZZ_SECONDS:-10}" -DCMAKE_CXX_FLAGS="$flags" \
    > build-fuzz.log 2>&1 || { cat build-fuzz.log; exit 1; }
  cmake --build build-fuzz -j"$(nproc)" --target fuzz_request fuzz_commands >> build-fuzz.log 2>&1 \
    || { tail -60 build-fuzz.log; exit 1; }
  ctest --test-dir build-fuzz --output-on-failure
}

case "${1:-}" in
  run)
    shift
    install_missing "${PACKAGES[@]}"
    build_to_run
    # Embedded default: ./ledgerq-data and loopback ports 5555-5557.
    exec build/broker/ledgerq-broker --data ledgerq-data "$@"
    ;;
  test)
    install_missing "${PACKAGES[@]}" "${TEST_PACKAGES[@]}"
    build
    ctest --test-dir build --output-on-failure -j"$(nproc)" --timeout 300
    sanitized
    fuzz
    ;;
  *)
    echo "usage: tools/dev.sh run [broker flags...] | tools/dev.sh test" >&2
    exit 2
    ;;
esac
