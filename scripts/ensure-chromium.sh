#!/usr/bin/env bash
# The dashboard's browser tests drive Debian's chromium (docs/dashboard.md); Playwright's own browser
# download is not used. `npm test` installs it first when it is missing, so the README's two commands
# work on a fresh machine.
set -euo pipefail
command -v chromium >/dev/null 2>&1 && exit 0
[ -n "${CHROMIUM_PATH:-}" ] && [ -x "${CHROMIUM_PATH}" ] && exit 0
if ! command -v apt-get >/dev/null 2>&1; then
  echo "chromium is missing and apt-get is not available: install a chromium and set CHROMIUM_PATH" >&2
  exit 1
fi
SUDO=$([ "$(id -u)" -eq 0 ] && echo "" || echo "sudo")
echo "installing Debian's chromium for the dashboard's browser tests"
$SUDO apt-get update -qq
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq chromium >/dev/null
