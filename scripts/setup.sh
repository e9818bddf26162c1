#!/usr/bin/env bash
# Installs everything the project needs on a fresh Debian 12 machine (as root), then builds.
set -euo pipefail
cd "$(dirname "$0")/.."
need=()
# nftables: only its `nft` CLI, which a test uses to write rules the way nft does (comments in userdata).
# zookeeperd: ZooKeeper 3.8 and a JRE; the overlay master's tests and bench run their own ensemble
# from its jars inside a test namespace (the package's own service is never used).
# docker.io, busybox-static: the overlay agent's tests run their own dockerd inside a test namespace
# (never the machine's daemon) and import a busybox image built from busybox-static's binary.
for p in iptables ipset iproute2 containernetworking-plugins conntrack netcat-openbsd iputils-ping nftables zookeeperd docker.io busybox-static; do
  dpkg -s "$p" >/dev/null 2>&1 || need+=("$p")
done
# node-gyp builds the addon when no prebuild matches: a C++ compiler, make and python3.
command -v g++ >/dev/null 2>&1 && command -v make >/dev/null 2>&1 || need+=(build-essential)
command -v python3 >/dev/null 2>&1 || need+=(python3)
if [ ${#need[@]} -gt 0 ]; then
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need[@]}" >/dev/null
fi
npm ci --no-audit --no-fund
# TypeScript only: `npm run build` would also run the "prebuild" hook (prebuildify: a second native
# compile); `npm ci` above already built the addon from source through the install script.
npm run build:ts
