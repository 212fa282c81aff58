#!/usr/bin/env bash
# `npm run setup`: the one system package sf2-export's GPU parity runtimes need
# on a machine without a GPU. Debian's chromium brings headless WebGPU (for the
# browser runtimes) and Chromium's SwiftShader Vulkan driver, a software
# (fallback) adapter that the `webgpu` package (Dawn) and onnxruntime's webgpu
# provider use when there is no GPU driver. Without it, the WebGPU bundle is
# run by no runtime and the export exits 7 (unverified).
#
# Idempotent: does nothing when /usr/bin/chromium and its SwiftShader are there,
# or when SF2_CHROMIUM names a Chromium/Chrome that ships them. Installs with
# apt-get (as root, or through sudo); elsewhere it prints what to install.
set -euo pipefail
have() {
  if [ -x /usr/bin/chromium ] && [ -f /usr/lib/chromium/vk_swiftshader_icd.json ]; then return 0; fi
  if [ -n "${SF2_CHROMIUM:-}" ] && [ -x "$SF2_CHROMIUM" ]; then
    d=$(dirname "$(readlink -f "$SF2_CHROMIUM")")
    [ -f "$d/vk_swiftshader_icd.json" ] && return 0
  fi
  return 1
}
if have; then
  echo "sf2-export setup: $(/usr/bin/chromium --version 2>/dev/null || "${SF2_CHROMIUM:-chromium}" --version 2>/dev/null || echo chromium) present, nothing to install"
  exit 0
fi
if ! command -v apt-get >/dev/null; then
  echo "sf2-export setup: no apt-get here; install Chromium (with its SwiftShader files) and set SF2_CHROMIUM to its binary, or install a GPU's Vulkan driver" >&2
  exit 1
fi
SUDO=
if [ "$(id -u)" != 0 ]; then
  if command -v sudo >/dev/null; then SUDO=sudo; else
    echo "sf2-export setup: run as root (or install sudo): apt-get install chromium" >&2
    exit 1
  fi
fi
echo "sf2-export setup: installing Debian's chromium (headless WebGPU and the SwiftShader software adapter) ..."
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq chromium >/dev/null
have || { echo "sf2-export setup: chromium installed but /usr/lib/chromium/vk_swiftshader_icd.json is missing (on Ubuntu the chromium package is a snap: set SF2_CHROMIUM to Google Chrome or Playwright's Chromium instead)" >&2; exit 1; }
echo "sf2-export setup: $(/usr/bin/chromium --version)"
