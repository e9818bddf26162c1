#!/usr/bin/env bash
# Installs everything the project needs on a fresh Debian 12 machine (as root), then builds.
set -euo pipefail
cd "$(dirname "$0")/.."
need=()
for p in iptables ipset iproute2 containernetworking-plugins conntrack netcat-openbsd; do
  dpkg -s "$p" >/dev/null 2>&1 || need+=("$p")
done
if [ ${#need[@]} -gt 0 ]; then
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need[@]}" >/dev/null
fi
npm ci --no-audit --no-fund
npm run build
