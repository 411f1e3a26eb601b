#!/usr/bin/env bash
# Installs the Debian packages that the test suites need beyond Node.js:
#  - nginx with the lua module and lua-cjson: integration tests of the APIcast token-metering policy
#  - lua5.1, lua-busted, lua-cjson, lua-zlib: unit tests of the policy's pure Lua core
#  - chromium: screenshots and browser checks of the developer portal pages
#  - python3-botocore: the S3 stand-in of the model download test checks every request's SigV4 signature with it
# Idempotent: does nothing when every package is already installed.
set -euo pipefail

packages=(nginx libnginx-mod-http-lua lua5.1 luajit2 lua-cjson lua-busted lua-zlib chromium wrk python3-botocore)

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done

if [ "${#missing[@]}" -eq 0 ]; then
  echo "install-system-deps: all system packages present"
  exit 0
fi

echo "install-system-deps: installing ${missing[*]}"
SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO="sudo"
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
# The Debian nginx package starts a server on port 80; the tests run their own nginx on loopback ports.
$SUDO systemctl disable --now nginx >/dev/null 2>&1 || $SUDO service nginx stop >/dev/null 2>&1 || true
echo "install-system-deps: done"
