#!/usr/bin/env bash
# Installs what the tests need beyond npm packages: Debian's Chromium, which
# provides headless WebGPU (SwiftShader) for the browser runtimes and the
# SwiftShader Vulkan driver that the `webgpu` package and onnxruntime's webgpu
# provider use on a machine without a GPU. Idempotent; needs root (as in CI).
set -euo pipefail
if [ ! -x /usr/bin/chromium ] || [ ! -f /usr/lib/chromium/vk_swiftshader_icd.json ]; then
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq chromium >/dev/null
fi
echo "test setup: $(/usr/bin/chromium --version 2>/dev/null || echo 'chromium missing')"
