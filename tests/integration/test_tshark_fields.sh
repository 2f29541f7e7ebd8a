#!/usr/bin/env bash
# Agreement with tshark: decoded fields of every packet of every nDPI capture
# (see tshark_fields.py; known differences and their reasons in tshark_fields_known.txt).
set -u
: "${NS_BIN:?}" "${NS_PCAPS:?}" "${NS_SRC:?}"
[[ -d "$NS_PCAPS/ndpi" ]] || { echo "skip: $NS_PCAPS/ndpi not found"; exit 77; }
command -v tshark >/dev/null || { echo "tshark not installed (make deps installs it)"; exit 77; }
here="$NS_SRC/tests/integration"
exec python3 "$here/tshark_fields.py" "$NS_BIN" "$NS_PCAPS/ndpi" "$here/tshark_fields_known.txt" \
  "${NS_BUILD:-/tmp}/tshark_fields_diffs.txt"
