#!/bin/sh
# The test suite needs real system services: a D-Bus session with gnome-keyring's Secret
# Service (the OS keychain), an X display with xsel (the clipboard) and a PostgreSQL cluster
# (the second store engine). This script starts them around ava, so `npm test` is the one
# command on a developer machine and in CI.
set -eu
if [ -z "${AKM_TEST_SERVICES:-}" ]; then
  if command -v dbus-run-session >/dev/null 2>&1 && command -v xvfb-run >/dev/null 2>&1 && command -v gnome-keyring-daemon >/dev/null 2>&1; then
    export AKM_TEST_SERVICES=1
    exec dbus-run-session -- xvfb-run -a -s "-screen 0 1024x768x24" sh "$0" "$@"
  fi
  if [ -n "${CI:-}" ]; then
    echo "CI: dbus-run-session, xvfb-run and gnome-keyring-daemon are required (apt-get install dbus gnome-keyring libsecret-tools xvfb xsel)" >&2
    exit 1
  fi
  echo "note: without dbus/gnome-keyring/xvfb the keychain and clipboard tests are skipped" >&2
else
  # Unlock (creating if needed) the login keyring so Secret Service accepts writes without a prompt.
  printf 'akm-test-keyring' | gnome-keyring-daemon --unlock --components=secrets >/dev/null
fi
exec sh "$(dirname "$0")/with-postgres.sh" npx ava "$@"
