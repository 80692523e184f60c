#!/usr/bin/env bash
# Installs what the test suite needs besides the build: the Debian packages of the
# independent peers the tests run against (coturn, a TURN and STUN server; Chromium and its
# WebDriver, a browser peer), iproute2 and nftables for the network-namespace tests, and a
# Python virtual environment under target/test-venv with the tools the tests drive (an
# OpenAPI validator, schemathesis, and aiortc, a WebRTC stack, pinned). Idempotent and non-interactive; uses sudo only when not root.
set -euo pipefail
cd "$(dirname "$0")/.."
venv=target/test-venv
requirements=tests/tools/requirements.txt
stamp="$venv/.installed"
sudo=""
[ "$(id -u)" -ne 0 ] && sudo="sudo"

packages=(coturn chromium chromium-driver iproute2 nftables python3)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
  echo "setup-test: installing ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  $sudo apt-get update -qq
  $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi

if [ -f "$stamp" ] && cmp -s "$stamp" "$requirements"; then
  exit 0
fi
if ! command -v python3 >/dev/null 2>&1; then
  echo "setup-test: python3 is needed for the test tools" >&2
  exit 1
fi
mkdir -p target
if ! python3 -m venv --help >/dev/null 2>&1 || ! python3 -c "import ensurepip" 2>/dev/null; then
  echo "setup-test: installing python3-venv"
  export DEBIAN_FRONTEND=noninteractive
  $sudo apt-get update -qq
  $sudo apt-get install -y -qq --no-install-recommends python3-venv
fi
[ -x "$venv/bin/python" ] || python3 -m venv "$venv"
"$venv/bin/python" -m pip install --quiet --disable-pip-version-check -r "$requirements"
cp "$requirements" "$stamp"
