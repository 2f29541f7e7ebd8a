#!/usr/bin/env bash
# The namespace lab's DNS responder (deploy/lab/dnsd.py) on its own: exact replies, hostile
# datagrams, a loopback round trip. No root needed; skipped (77) without python3.
set -u
: "${NS_SRC:?}"
py=python3
[[ -x /usr/bin/python3 ]] && py=/usr/bin/python3 # the Debian interpreter lab.sh runs dnsd with
command -v "$py" >/dev/null || { echo "skip: needs python3"; exit 77; }
exec "$py" "$NS_SRC/tests/integration/lab_dnsd_cases.py" "$NS_SRC"
