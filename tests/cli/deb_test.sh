#!/usr/bin/env bash
# Builds the Debian package (cpack) and checks it as an installed system
# would use it: its metadata, its files, and its programs run from the
# unpacked tree with the shipped settings, a broker answering the CLI.
#   deb_test.sh BUILD_DIR
set -euo pipefail
build=$1
scratch=$(mktemp -d)
broker_pid="" web_pid=""
cleanup() {
  for p in $broker_pid $web_pid; do kill "$p" 2>/dev/null || true; done
  rm -rf "$scratch"
}
trap cleanup EXIT
fail() { echo "FAIL: $*"; exit 1; }

(cd "$build" && cpack -G DEB -B "$scratch/out" > "$scratch/cpack.log" 2>&1) || { cat "$scratch/cpack.log"; fail "cpack"; }
deb=$(find "$scratch/out" -name "ledgerq_*.deb")
[ -f "$deb" ] || fail "cpack made no package: $(cat "$scratch/cpack.log")"
version=$(dpkg-deb -f "$deb" Version)
[ "$(dpkg-deb -f "$deb" Package)" = ledgerq ] || fail "package name"

# Depends: what the binaries link (dpkg-shlibdeps) and adduser for postinst.
depends=$(dpkg-deb -f "$deb" Depends)
# jemalloc only where the built broker links it (LEDGERQ_JEMALLOC; off under sanitizers).
needs=(adduser libzmq5 liblmdb0 libsystemd0)
if ldd "$build/broker/ledgerq-broker" | grep -q libjemalloc; then needs+=(libjemalloc2); fi
for d in "${needs[@]}"; do
  grep -q "$d" <<< "$depends" || fail "Depends lacks $d: $depends"
done
# The maintainer scripts and the linker-cache trigger are in the control part.
dpkg-deb -e "$deb" "$scratch/control"
for f in postinst prerm postrm; do
  [ -x "$scratch/control/$f" ] || fail "no executable $f"
  sh -n "$scratch/control/$f" || fail "$f: syntax"
done
grep -qx "activate-noawait ldconfig" "$scratch/control/triggers" || fail "no ldconfig trigger"

# Every file a user of the package looks for.
files=$(dpkg-deb -c "$deb" | awk '{print $6}')
for f in usr/bin/ledgerq-broker usr/bin/ledgerq usr/bin/ledgerq-replay usr/bin/ledgerq-web \
         usr/lib/libledgerq_client.so.0 usr/include/ledgerq/client.hpp usr/include/ledgerq/version.hpp \
         usr/lib/cmake/ledgerq/ledgerqConfig.cmake usr/lib/pkgconfig/ledgerq-client.pc \
         usr/lib/systemd/system/ledgerq.service usr/lib/systemd/system/ledgerq-web.service \
         usr/share/ledgerq/broker.conf usr/share/ledgerq/web.env usr/share/doc/ledgerq/README.md; do
  grep -qx "\./$f" <<< "$files" || fail "not in the package: /$f"
done
if grep -q "^\./etc/\|^\./usr/local/" <<< "$files"; then fail "files outside /usr: $(grep '^\./etc/\|^\./usr/local/' <<< "$files")"; fi

# The unit runs what the package installs, as a notify service with its user.
dpkg-deb -x "$deb" "$scratch/root"
unit="$scratch/root/usr/lib/systemd/system/ledgerq.service"
for line in "Type=notify" "ExecStart=/usr/bin/ledgerq-broker --config /etc/ledgerq/broker.conf" "User=ledgerq" \
            "StateDirectory=ledgerq" "NoNewPrivileges=yes" "ProtectSystem=strict"; do
  grep -qx "$line" "$unit" || fail "unit lacks: $line"
done
if command -v systemd-analyze > /dev/null; then
  # Checks the units' syntax; the one complaint allowed is that the programs
  # are not installed on this machine.
  out=$(systemd-analyze verify "$unit" "$scratch/root/usr/lib/systemd/system/ledgerq-web.service" 2>&1 || true)
  if grep -v "/usr/bin/ledgerq-[a-z]* is not executable" <<< "$out" | grep -q .; then fail "systemd-analyze verify: $out"; fi
fi

# The programs run from the unpacked tree: they find their library (no build
# tree, no LD_LIBRARY_PATH), say the package's version, and a broker started
# with the shipped settings answers the shipped CLI.
bin="$scratch/root/usr/bin"
for prog in ledgerq-broker ledgerq ledgerq-replay ledgerq-web; do
  if env -u LD_LIBRARY_PATH ldd "$bin/$prog" | grep -q "not found"; then fail "$prog: $(ldd "$bin/$prog")"; fi
  [ "$(env -u LD_LIBRARY_PATH "$bin/$prog" --version)" = "$prog $version" ] || fail "$prog --version"
done
if env -u LD_LIBRARY_PATH ldd "$bin/ledgerq" | grep -q "$build"; then fail "ledgerq loads from the build tree"; fi
env -u LD_LIBRARY_PATH "$bin/ledgerq-broker" --config "$scratch/root/usr/share/ledgerq/broker.conf" \
  --data "$scratch/data" --router "tcp://127.0.0.1:*" --status-pub "tcp://127.0.0.1:*" \
  --requests-pub "tcp://127.0.0.1:*" > "$scratch/ready" 2> "$scratch/broker.log" &
broker_pid=$!
for _ in $(seq 100); do grep -q "ready:" "$scratch/ready" && break; sleep 0.1; done
router=$(grep -o 'router=[^ ]*' "$scratch/ready" | cut -d= -f2)
[ -n "$router" ] || fail "the broker did not start: $(cat "$scratch/broker.log")"
ping=$(env -u LD_LIBRARY_PATH "$bin/ledgerq" --router "$router" --json ping)
grep -q "\"release\":\"$version\"" <<< "$ping" || fail "ping: $ping"
# The unpacked dashboard serves the broker's metrics.
env -u LD_LIBRARY_PATH "$bin/ledgerq-web" --listen 127.0.0.1:0 --router "$router" > "$scratch/web-ready" 2>&1 &
web_pid=$!
for _ in $(seq 100); do grep -q "ready:" "$scratch/web-ready" && break; sleep 0.1; done
url=$(grep -o 'http://[^ ]*' "$scratch/web-ready") || fail "ledgerq-web did not start: $(cat "$scratch/web-ready")"
metrics=$(python3 -c 'import sys, urllib.request; print(urllib.request.urlopen(sys.argv[1] + "/metrics").read().decode())' "$url")
kill -TERM "$web_pid"; wait "$web_pid" || fail "ledgerq-web did not stop cleanly"
grep -qx "ledgerq_up 1" <<< "$metrics" || fail "metrics: $metrics"
kill -TERM "$broker_pid"
wait "$broker_pid" || fail "the broker did not stop cleanly"
broker_pid="" web_pid=""
echo "ledgerq $version: package checked, its broker answered its CLI"
