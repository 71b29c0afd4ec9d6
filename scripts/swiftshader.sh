#!/usr/bin/env bash
# A software WebGPU adapter for tests and for counting dispatches on any Debian machine:
# the Vulkan loader (libvulkan1) and SwiftShader, Google's Vulkan driver that runs on the CPU,
# taken from Debian's chromium-common (two files, ~5 MB, unpacked with dpkg -x; chromium itself
# is not installed). The webgpu backend finds it in .cache/swiftshader without any setting
# (src/backend/swiftshader.ts). Idempotent: a second run only checks, in well under a second.
# Usage: scripts/swiftshader.sh   (prints the driver file's path)
set -euo pipefail
cd "$(dirname "$0")/.."
dest="${LABEL_LEAK_SWIFTSHADER_DIR:-.cache/swiftshader}"
icd="$dest/vk_swiftshader_icd.json"
sudo_=$([ "$(id -u)" = 0 ] && echo || echo sudo)
export DEBIAN_FRONTEND=noninteractive

# apt-get download/install, with one `apt-get update` when the package lists are missing or stale.
apt_() {
  "$@" >/dev/null 2>&1 || { $sudo_ apt-get update -qq && "$@" >/dev/null; }
}

if ! ldconfig -p 2>/dev/null | grep -q 'libvulkan\.so\.1 '; then
  echo "swiftshader: installing libvulkan1 (the Vulkan loader dawn.node opens)" >&2
  apt_ $sudo_ apt-get install -y -qq --no-install-recommends libvulkan1
fi

if [ ! -f "$icd" ] || [ ! -f "$dest/libvk_swiftshader.so" ]; then
  echo "swiftshader: extracting SwiftShader from Debian's chromium-common into $dest" >&2
  tmp="$(mktemp -d)"
  trap 'rm -rf "$tmp"' EXIT
  chmod 777 "$tmp" # apt's download sandbox user must be able to write there
  (cd "$tmp" && apt_ apt-get download -qq chromium-common)
  dpkg -x "$tmp"/chromium-common_*.deb "$tmp/x"
  mkdir -p "$dest"
  # The JSON names the library relative to itself ("./libvk_swiftshader.so"): keep them together.
  cp "$tmp/x/usr/lib/chromium/libvk_swiftshader.so" "$dest/libvk_swiftshader.so.tmp"
  cp "$tmp/x/usr/lib/chromium/vk_swiftshader_icd.json" "$dest/vk_swiftshader_icd.json.tmp"
  mv "$dest/libvk_swiftshader.so.tmp" "$dest/libvk_swiftshader.so"
  mv "$dest/vk_swiftshader_icd.json.tmp" "$icd"
fi
echo "$(cd "$dest" && pwd)/vk_swiftshader_icd.json"
