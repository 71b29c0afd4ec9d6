#!/usr/bin/env bash
# Run on the GPU box, in the repo copy that came with prepare.sh's folders. Idempotent:
# each step is skipped when its result is already there (the box keeps /opt while warm).
#   /opt/label-leak/node             Node, unpacked from .node/node.xz
#   the Vulkan loader                from .gl/*.deb, unpacked into / (then ldconfig)
#   /opt/label-leak/data/cifar-10-batches-bin   rebuilt from .cifar/ when it was carried
set -euo pipefail
cd "$(dirname "$0")/../.."
dest=/opt/label-leak
mkdir -p "$dest"
# NVIDIA's Vulkan driver lives in libGLX_nvidia.so.0, which needs libglvnd's dispatch
# libraries: the loader alone finds the manifest but cannot open the driver.
for f in .gl/*.deb; do dpkg -x "$f" /; done
ldconfig
if [ ! -x "$dest/node" ] && [ -s .node/node.xz ]; then
  xz -dc .node/node.xz > "$dest/node.tmp" && chmod +x "$dest/node.tmp" && mv "$dest/node.tmp" "$dest/node"
fi
cifar="$dest/data/cifar-10-batches-bin"
if [ ! -s "$cifar/test_batch.bin" ] && [ -s .cifar/cifar-10-jpeg.pack ]; then
  python3 .cifar/cifar-jpeg-unpack.py .cifar/cifar-10-jpeg.pack "$cifar.tmp" && mv "$cifar.tmp" "$cifar"
fi
# NVIDIA's Vulkan driver manifest: the loader's default paths first, then where containers put it.
if [ -z "${VK_DRIVER_FILES:-}" ]; then
  for f in /usr/share/vulkan/icd.d/nvidia_icd.json /etc/vulkan/icd.d/nvidia_icd.json /usr/local/nvidia/share/vulkan/icd.d/nvidia_icd.json; do
    if [ -f "$f" ]; then echo "export VK_DRIVER_FILES=$f"; break; fi
  done
fi
echo "export PATH=$dest:\$PATH LABEL_LEAK_DATA_DIR=$dest/data"
