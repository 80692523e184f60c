#!/usr/bin/env bash
# Installs what the benchmarks need besides the build: espeak-ng (speech), sox
# (resampling), stress-ng (CPU hogs for the busy-machine figures), baresip-core (the CPU
# figure parla is compared with) and Python's numpy + pesq
# (wideband PESQ). Idempotent, non-interactive.
set -euo pipefail
bash "$(dirname "$0")/setup.sh"
missing=()
for p in espeak-ng sox stress-ng baresip-core; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
  sudo=""
  [ "$(id -u)" -ne 0 ] && sudo="sudo"
  export DEBIAN_FRONTEND=noninteractive
  $sudo apt-get update -qq
  $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi
if ! python3 -c "import numpy, pesq" 2>/dev/null; then
  python3 -m pip install --quiet numpy pesq
fi
