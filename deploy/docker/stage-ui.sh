#!/usr/bin/env bash
# stage-ui.sh - puts the dashboard built on this host where the image build takes it from.
#
#   stage-ui.sh [UI_DIR]        (default build/dev/ui, else the first build/*/ui with an app.js)
#
# The image does not run npm: inside a container npm trusts only the image's CA bundle, and a
# registry or proxy with a certificate of its own (SELF_SIGNED_CERT_IN_CHAIN) makes `npm ci`
# fail there while it works on the host. So the dashboard is built on the host (`cmake --build
# --preset dev --target netscope_ui`: the bundle and the WebAssembly decoder in <build>/ui) and
# this script copies it into deploy/docker/ui-dist/ (git-ignored), which the Dockerfile's
# default NS_UI=staged copies into the runtime image. The copy replaces what was staged before.
set -euo pipefail

src_root=$(cd "$(dirname "$0")/../.." && pwd)
dest=$src_root/deploy/docker/ui-dist

die() {
  echo "stage-ui: $*" >&2
  exit 1
}

ui=${1:-}
if [[ -z $ui ]]; then
  for d in "$src_root"/build/dev/ui "$src_root"/build/*/ui; do
    [[ -f $d/app.js ]] && { ui=$d; break; }
  done
  [[ -n $ui ]] || die "no built dashboard under build/*/ui: cmake --build --preset dev --target netscope_ui"
fi
# What the dashboard cannot work without; the decoder only makes the packet inspector decode.
for f in index.html app.js app.css fa2_worker.js; do
  [[ -s $ui/$f ]] || die "$ui/$f missing: not a built dashboard"
done
[[ -s $ui/netscope_decode.wasm ]] ||
  echo "stage-ui: $ui has no netscope_decode.wasm: the inspector will not decode packets" >&2

rm -rf "$dest.tmp"
mkdir -p "$dest.tmp"
cp -r "$ui"/. "$dest.tmp"/
rm -rf "$dest"
mv "$dest.tmp" "$dest"
echo "stage-ui: $ui -> $dest ($(find "$dest" -type f | wc -l) files)"
