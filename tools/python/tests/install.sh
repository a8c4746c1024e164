#!/usr/bin/env bash
# `pip install tools/python` as the README says, into a fresh virtual
# environment and offline: Debian's python3-zmq and python3-msgpack satisfy
# its dependencies (--system-site-packages), Debian's setuptools builds it
# (--no-build-isolation), and nothing comes from an index (--no-index).
set -euo pipefail
src="$(cd "$(dirname "$0")/.." && pwd)"
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
cp -r "$src" "$tmp/src"  # a build writes into the source tree: keep the repository's clean
/usr/bin/python3 -m venv --system-site-packages "$tmp/venv"
"$tmp/venv/bin/pip" install --quiet --no-index --no-build-isolation "$tmp/src"
cd "$tmp"
out="$("$tmp/venv/bin/python" -c 'import ledgerq; print(ledgerq.__file__); print(ledgerq.Timeout("no reply").retryable)')"
echo "$out"
case "$(head -1 <<<"$out")" in
  "$tmp/venv/"*) ;;
  *) echo "ledgerq was not imported from the virtual environment"; exit 1 ;;
esac
[ "$(tail -1 <<<"$out")" = True ] || { echo "Timeout.retryable must be True, as in libclient"; exit 1; }
show="$("$tmp/venv/bin/pip" show ledgerq)"
grep -q '^Version: 0.1.0' <<<"$show" || { echo "$show"; exit 1; }
echo "ok: pip install tools/python"
