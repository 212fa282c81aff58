#!/usr/bin/env bash
# The GitHub Action's export step (action.yml at the repository root), also
# runnable by hand. Inputs come as environment variables (never interpolated
# into the script): SF2_MODEL (required), SF2_TARGET, SF2_REFERENCE,
# SF2_PRECISION, SF2_ROWS, SF2_OUT, SF2_PACKAGE (what `npm install` gets;
# empty: sf2-export is already installed), SF2_ALLOW_UNVERIFIED (true/false).
# Writes the outputs bundle, pass, exit-code to $GITHUB_OUTPUT and
# parity-report.md to $GITHUB_STEP_SUMMARY when those are set; exits with
# sf2-export's own exit code (docs/cli.md).
set -uo pipefail
: "${SF2_MODEL:?the model input is required}"
OUT="${SF2_OUT:-dist/model}"
GITHUB_OUTPUT="${GITHUB_OUTPUT:-/dev/null}"

# 1. A software WebGPU adapter when there is no GPU: Chromium's SwiftShader.
#    Debian: apt-get install chromium. Ubuntu's chromium is a snap (no SwiftShader
#    files where Dawn can load them): use Google Chrome (preinstalled on GitHub's
#    ubuntu images) or else Playwright's Chromium, through SF2_CHROMIUM.
if [ ! -f /usr/lib/chromium/vk_swiftshader_icd.json ] && [ -z "${SF2_CHROMIUM:-}" ]; then
  if grep -qi '^ID=debian' /etc/os-release 2>/dev/null && command -v apt-get >/dev/null; then
    SUDO=; [ "$(id -u)" = 0 ] || SUDO=sudo
    $SUDO apt-get update -qq && $SUDO apt-get install -y -qq chromium >/dev/null
  else
    for c in /usr/bin/google-chrome /usr/bin/google-chrome-stable /opt/google/chrome/chrome; do
      if [ -x "$c" ] && [ -f "$(dirname "$(readlink -f "$c")")/vk_swiftshader_icd.json" ]; then export SF2_CHROMIUM="$c"; break; fi
    done
  fi
fi

# 2. sf2-export itself, without onnxruntime-node's CUDA download (README, Install).
export ONNXRUNTIME_NODE_INSTALL="${ONNXRUNTIME_NODE_INSTALL:-skip}"
if [ -n "${SF2_PACKAGE:-}" ]; then
  npm install --no-save --no-audit --no-fund "$SF2_PACKAGE" || exit 1
fi
if [ -z "${SF2_CHROMIUM:-}" ] && [ ! -f /usr/lib/chromium/vk_swiftshader_icd.json ] && [ -z "$(command -v nvidia-smi)" ]; then
  npx --no-install playwright-core install chromium >/dev/null && \
    SF2_CHROMIUM="$(node -e "console.log(require('playwright-core').chromium.executablePath())")" && export SF2_CHROMIUM
fi
[ -n "${SF2_CHROMIUM:-}" ] && [ -n "${GITHUB_ENV:-}" ] && echo "SF2_CHROMIUM=$SF2_CHROMIUM" >> "$GITHUB_ENV"

# 3. The export: every bundle, parity, reports (exit 5 parity failed, 7 unverified).
args=("$SF2_MODEL" --target "${SF2_TARGET:-web}" --out "$OUT" --force)
[ -n "${SF2_REFERENCE:-}" ] && args+=(--reference "$SF2_REFERENCE")
[ -n "${SF2_PRECISION:-}" ] && args+=(--precision "$SF2_PRECISION")
[ -n "${SF2_ROWS:-}" ] && args+=(--rows "$SF2_ROWS")
[ "${SF2_ALLOW_UNVERIFIED:-false}" = true ] && args+=(--allow-unverified)
npx --no-install sf2-export "${args[@]}"
code=$?

pass=false; [ "$code" = 0 ] && pass=true
{ echo "bundle=$OUT"; echo "pass=$pass"; echo "exit-code=$code"; } >> "$GITHUB_OUTPUT"
if [ -n "${GITHUB_STEP_SUMMARY:-}" ] && [ -f "$OUT/parity-report.md" ]; then cat "$OUT/parity-report.md" >> "$GITHUB_STEP_SUMMARY"; fi
exit "$code"
