#!/usr/bin/env bash
# deps.sh - install the Debian 12 packages NetScope needs that are missing. Idempotent.
# Works as root (apt-get directly) or as a user with sudo. Usage: scripts/deps.sh [bench]
#   (no argument)  build, test and run dependencies
#   bench          also the peers the benchmarks compare against
set -euo pipefail

pkgs=(
  build-essential cmake pkg-config git
  clang lld libclang-rt-14-dev           # asan build, fuzzing, the WebAssembly decoder
  libpcap-dev libjansson-dev libxxhash-dev check
  libzmq3-dev libsodium-dev              # agent <-> collector transport (CurveZMQ)
  libprotobuf-c-dev protobuf-c-compiler  # the wire protocol
  tshark tcpdump python3 iproute2        # tests compare with tshark
  iputils-ping curl                      # the namespace lab's traffic (deploy/lab)
  hping3 nmap iperf3 jq                  # the detection lab test's attacks and ordinary load
  liblmdb-dev                            # the collector's history (store/)
  libmicrohttpd-dev                      # the REST API and /metrics
  libwebsockets-dev                      # the live stream (collector/ws.c)
  prometheus                             # tests: promtool check metrics
  clickhouse-server clickhouse-client    # tests: the ClickHouse sink against a real server
  systemd groff-base man-db              # tests: systemd-analyze verify/security, man pages
  lintian debootstrap                    # tests: the Debian package, in a Debian 12 container
  docker.io docker-compose               # tests: the compose lab on a locally built base image
  chromium                               # tests: the dashboard in a headless browser
)
# the dashboard's build (ui/): Debian's Node.js and npm, only when none is installed already
command -v node >/dev/null 2>&1 && command -v npm >/dev/null 2>&1 || pkgs+=(nodejs npm)
if [[ "${1:-}" == "bench" ]]; then
  pkgs+=(softflowd libndpi-bin argus-server time valgrind)
fi

missing=()
for p in "${pkgs[@]}"; do
  status=$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null || true)
  [[ "$status" == "install ok installed" ]] || missing+=("$p")
done
if [[ ${#missing[@]} -eq 0 ]]; then
  echo "deps: all ${#pkgs[@]} packages present"
  exit 0
fi

if [[ $(id -u) -eq 0 ]]; then
  sudo=()
elif command -v sudo >/dev/null 2>&1; then
  sudo=(sudo)
else
  echo "deps: missing packages: ${missing[*]}" >&2
  echo "deps: run as root or install sudo, or install them yourself" >&2
  exit 1
fi
echo "deps: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
# tshark asks whether non-root users may capture; answer no without a prompt.
echo "wireshark-common wireshark-common/install-setuid boolean false" | "${sudo[@]}" debconf-set-selections 2>/dev/null || true
"${sudo[@]}" apt-get update -q
"${sudo[@]}" apt-get install -y -q --no-install-recommends "${missing[@]}"
# argus-server's install starts a capture daemon where systemd runs: the benchmark only needs
# the binary, so stop it (it is not enabled at boot).
if [[ " ${missing[*]} " == *" argus-server "* ]] && command -v systemctl >/dev/null 2>&1; then
  "${sudo[@]}" systemctl stop argus.service 2>/dev/null || true
fi
