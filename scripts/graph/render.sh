#!/usr/bin/env bash
# Renders `netc graph` reports of the reference specs to PNG with headless Chromium, for
# a person to look at (nothing may overlap, labels must be readable, folding must work).
#   scripts/graph/render.sh [out-dir]      (default /tmp/netc-graph)
# Needs chromium (Debian: apt-get install -y chromium) and a built netc (.build/debug or
# NETC=path). The README's picture is docs/images/graph-inception.png from this script.
set -euo pipefail
cd "$(dirname "$0")/../.."
out=${1:-/tmp/netc-graph}
netc=${NETC:-.build/debug/netc}
mkdir -p "$out"
shot() { # name, html, width, height
  chromium --headless --no-sandbox --disable-gpu --hide-scrollbars --force-device-scale-factor=1 \
    --screenshot="$out/$1.png" --window-size="$3,$4" "file://$(realpath "$2")" 2>/dev/null
  echo "$out/$1.png"
}
render() { # name, height, netc graph arguments...
  local name=$1 height=$2
  shift 2
  "$netc" graph "$@" -o "$out/$name.html"
  "$netc" graph "$@" -o "$out/$name.svg"
  shot "$name" "$out/$name.html" 1600 "$height"
}
render resnet50 1400 specs/resnet50.yaml
render resnet50-depth1 1400 specs/resnet50.yaml --depth 1
render mobilenet_v2 1400 specs/mobilenet_v2.yaml
render inception 900 specs/inception-block.yaml
render gpt2 1400 specs/gpt2.yaml
render gpt2-1024 1400 specs/gpt2.yaml --set T=1024
render unet 1600 specs/unet.yaml
render llama3_8b 1400 specs/llama3_8b.yaml
compare() { # name, height, netc graph arguments...
  local name=$1 height=$2
  shift 2
  "$netc" graph --compare "$@" -o "$out/$name.html"
  shot "$name" "$out/$name.html" 1600 "$height"
}
compare compare-sepconv 1000 specs/conv3x3-30x30x20.yaml specs/sepconv3x3-30x30x20.yaml
compare compare-resnets 1400 specs/resnet18.yaml specs/resnet50.yaml --depth 1
# The pictures alone (SVG), for the tall ones: the whole network at once.
for name in resnet50 unet; do
  h=$(sed -n 's/.*<svg[^>]* height="\([0-9]*\)".*/\1/p' "$out/$name.svg" | head -1)
  w=$(sed -n 's/.*<svg[^>]* width="\([0-9]*\)".*/\1/p' "$out/$name.svg" | head -1)
  shot "$name-svg" "$out/$name.svg" "$w" "$h"
done
# The README's picture: README=1 scripts/graph/render.sh
if [ "${README:-}" = 1 ]; then cp "$out/inception.png" docs/images/graph-inception.png; fi
