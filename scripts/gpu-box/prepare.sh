#!/usr/bin/env bash
# Run on a machine with the repo, npm ci done and Debian's apt: packs what a bare GPU box
# (no Node, no registry) needs into folders .git/info/exclude ignores. See docs/gpu.md §5.
#   .node/node.xz     this machine's official Node build (links only libc/libstdc++)
#   dist/             the bundled CLI, the wasm binaries and dawn.node (npm run bundle)
#   .gl/*.deb         the Vulkan loader (dawn.node dlopens it) and libglvnd, which NVIDIA's driver needs
#   .cifar/           CIFAR-10 as the 55 MB JPEG pack plus its unpacker, if DATASETS is given
set -euo pipefail
cd "$(dirname "$0")/../.."
for d in /.gl/ /.node/ /.cifar/ /.ckpt/; do grep -qxF "$d" .git/info/exclude 2>/dev/null || echo "$d" >> .git/info/exclude; done
mkdir -p .node .gl
[ -s .node/node.xz ] || xz -T0 -9 -c "$(command -v node)" > .node/node.xz
node scripts/bundle.mjs
o='-oAPT::Architecture=amd64 -oAPT::Architectures=amd64 -oDir::State::Lists=/tmp/amd64'
mkdir -p /tmp/amd64/partial
apt-get $o update -qq
(cd .gl && apt-get $o download libvulkan1 libglvnd0 libglx0 libgl1 libegl1 libgles2 libopengl0)
if [ -n "${DATASETS:-}" ]; then
  mkdir -p .cifar
  cp "$DATASETS/cifar-10-jpeg.pack" .cifar/
  cp "$DATASETS/../tools/cifar-jpeg-unpack.py" .cifar/
fi
du -sh .node dist .gl ${DATASETS:+.cifar}
