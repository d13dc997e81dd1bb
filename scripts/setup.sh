#!/usr/bin/env bash
# Sets up a fresh machine: pnpm, the Perl reference client (for interop and parity tests),
# the workspace's packages, and a build. Safe to run again.
set -euo pipefail
cd "$(dirname "$0")/.."

PNPM_VERSION=$(node -p "require('./package.json').packageManager.split('@')[1]")
if ! command -v pnpm >/dev/null 2>&1 || [ "$(pnpm --version 2>/dev/null)" != "$PNPM_VERSION" ]; then
  echo "setup: installing pnpm@$PNPM_VERSION with npm"
  npm install -g "pnpm@$PNPM_VERSION" >/dev/null
fi

# MR::IProto (Debian libmr-tarantool-perl) is the reference the interop and parity tests run.
if ! perl -MMR::IProto -MMR::IProto::Server -e 1 >/dev/null 2>&1; then
  SUDO=""
  [ "$(id -u)" -eq 0 ] || SUDO="sudo"
  echo "setup: installing libmr-tarantool-perl with apt-get"
  $SUDO apt-get update -qq >/dev/null
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq libmr-tarantool-perl >/dev/null
fi

pnpm install --frozen-lockfile
pnpm build --output-logs=errors-only
