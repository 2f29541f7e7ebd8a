#!/bin/bash
# Agreement of `netscope flows` with tshark on every capture in $NS_PCAPS/ndpi: conversation
# packets/bytes per direction, TCP retransmissions and handshake RTT (see
# flows_tshark_compare.py for the criteria and why they are fair). Every remaining difference
# is listed with its reason in flows_tshark_known.txt. One tshark pass per capture, two
# captures at a time (NS_TSHARK_JOBS to change), nothing cached between runs.
set -u
command -v tshark >/dev/null || exit 77
[ -x /usr/bin/python3 ] || exit 77
[ -d "$NS_PCAPS/ndpi" ] || exit 77
here=$(cd "$(dirname "$0")" && pwd)
exec /usr/bin/python3 "$here/flows_tshark_compare.py" "$NS_BIN" "$NS_PCAPS/ndpi" \
    "$here/flows_tshark_known.txt" "${NS_TSHARK_JOBS:-2}"
