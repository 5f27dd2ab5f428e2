#!/usr/bin/env bash
# Installs Debian's Chromium for the web UI's browser tests when it is missing
# (playwright-core drives it and downloads no browser of its own). Run by .ci/run.
# Without root or password-less sudo it says what to run and goes on: the browser
# tests then fail, naming the missing browser.
set -uo pipefail
if [ -n "${CHROMIUM_PATH:-}" ] || [ -x /usr/bin/chromium ]; then exit 0; fi
if [ "$(id -u)" = 0 ]; then as_root=(); elif sudo -n true 2>/dev/null; then as_root=(sudo -n); else
  echo "Chromium is missing and this user cannot install it: run \`sudo apt-get install chromium\` (the browser tests fail without it)." >&2
  exit 0
fi
echo "Installing Debian's chromium for the browser tests..."
for attempt in 1 2 3; do
  if "${as_root[@]}" env DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=120 update -qq &&
     "${as_root[@]}" env DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=120 install -y -qq chromium >/dev/null; then
    exit 0
  fi
  echo "apt-get failed (attempt $attempt of 3); trying again in 10 s." >&2
  sleep 10
done
echo "Could not install chromium with apt-get: the browser tests will fail, naming the missing browser." >&2
exit 0
