#!/usr/bin/env bash
# Proves the two ways `npm install mesos-cni` gets its addon, on the packed tarball:
#   (b) a prebuild is in the tarball: installs and loads on a PATH with no compiler, make or python,
#       and never builds (no build/ directory appears);
#   (a) no prebuild matches: the install script falls back to building from source with node-gyp;
#   (c) `npm install -g` of it gives the `mesos-cni` command on PATH, and its `install` writes the plugins.
# Prints one "ok - ..." / "not ok - ..." line per check (.ci/run counts them); exits 1 if any failed.
# Run from the repository root after `npm ci`. Leaves the tree's build/ rebuilt and a fresh
# prebuilds/linux-x64/*.node behind (both are git-ignored).
set -uo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
work=$(mktemp -d /tmp/mesos-cni-install.XXXXXX)
trap 'rm -rf "$work"' EXIT
failed=0
ok() { echo "ok - $*"; }
notok() { echo "not ok - $*"; failed=1; }
step() { echo "# check-install: $*"; }

# The smallest use of the installed package: load the addon and ask it which netns we are in.
probe='import { netns } from "mesos-cni"; const n = netns.current(); if (!(n.ino > 0)) throw new Error("bad netns"); n.close(); console.log("loaded addon, netns inode", n.ino);'

# A PATH with the usual userland (sh, tar, ...) but without any compiler, linker, make or python:
# what a production host without build tools looks like to npm and node-gyp.
nocc="$work/nocc-bin"
mkdir -p "$nocc"
for d in /usr/local/sbin /usr/local/bin /usr/sbin /usr/bin /sbin /bin; do
  [ -d "$d" ] || continue
  for f in "$d"/*; do
    b=${f##*/}
    [[ "$b" =~ ^(cc|c\+\+|c89|c99|gcc.*|g\+\+.*|cpp.*|clang.*|.*-linux-gnu.*|make|gmake|cmake|ld|ld\..*|as|python.*|node-gyp)$ ]] && continue
    [ -e "$nocc/$b" ] || ln -s "$f" "$nocc/$b"
  done
done
if PATH="$nocc" command -v cc c++ g++ gcc make python3 >/dev/null 2>&1; then
  notok "the stripped PATH still has a compiler, make or python: $(PATH="$nocc" command -v cc c++ g++ gcc make python3 | tr '\n' ' ')"
fi

# A throwaway npm project; npm's cache already holds our two small dependencies after `npm ci`.
project() {
  mkdir -p "$1" && echo '{"name":"install-check","version":"1.0.0","private":true,"type":"module"}' >"$1/package.json"
}
npm_in() { # dir path npm-args...
  local dir=$1 path=$2
  shift 2
  (cd "$dir" && env -i HOME="${HOME:-/root}" PATH="$path" CI=true npm install --no-audit --no-fund --prefer-offline --foreground-scripts "$@")
}

# `npm pack` runs the prepack script: tsc, then prebuildify (a fresh stripped N-API prebuild).
step "npm pack (prepack: build + prebuild)"
if ! tarball=$(npm pack --pack-destination "$work" 2>"$work/pack.log" | tail -n 1) || [ ! -f "$work/$tarball" ]; then
  tail -n 30 "$work/pack.log"
  notok "npm pack failed"
  exit 1
fi
tarball="$work/$tarball"
prebuilt=$(tar tzf "$tarball" | grep -E '^package/prebuilds/linux-x64/[^/]+\.node$' || true)
if [ -n "$prebuilt" ]; then
  ok "npm pack ships a linux-x64 prebuild: ${prebuilt#package/} ($(du -k "$root/${prebuilt#package/}" | cut -f1) KiB)"
else
  notok "npm pack: no prebuilds/linux-x64/*.node in $(basename "$tarball")"
fi

# (b) With the prebuild, on a machine without a compiler.
step "install the tarball with PATH=$nocc (no compiler)"
p="$work/with-prebuild"
project "$p"
if npm_in "$p" "$nocc" "$tarball" >"$work/b.log" 2>&1 &&
  [ ! -e "$p/node_modules/mesos-cni/build" ] &&
  out=$(cd "$p" && env -i PATH="$nocc" node --input-type=module -e "$probe" 2>&1) &&
  ver=$(cd "$p" && echo '{"cniVersion":"1.0.0"}' | env -i PATH="$nocc" CNI_COMMAND=VERSION node node_modules/mesos-cni/dist/bin/bridge.cjs 2>&1) &&
  [[ "$ver" == *supportedVersions* ]]; then
  ok "install path (b): prebuild used without a compiler, nothing built ($out; bundled bridge answers VERSION)"
else
  tail -n 30 "$work/b.log"
  echo "# ${out:-} ${ver:-}"
  [ -e "$p/node_modules/mesos-cni/build" ] && echo "# a build/ directory was created"
  notok "install path (b): tarball with prebuild on a PATH without a compiler"
fi

# The same tarball without its prebuild must FAIL there: proves the PATH really lacks a compiler,
# so (b) passed because of the prebuild and not a silent build.
stripped="$work/stripped"
mkdir -p "$stripped" && tar xzf "$tarball" -C "$stripped" && rm -rf "$stripped/package/prebuilds" &&
  tar czf "$work/no-prebuild.tgz" -C "$stripped" package
p="$work/no-prebuild-no-cc"
project "$p"
if npm_in "$p" "$nocc" "$work/no-prebuild.tgz" >"$work/neg.log" 2>&1; then
  notok "control: a tarball without prebuild installed on a PATH without a compiler (the PATH is not compiler-free)"
else
  ok "control: without a prebuild and without a compiler the install fails (node-gyp cannot build)"
fi

# (a) No matching prebuild, compiler present: the install script builds from source.
step "install the tarball without prebuilds, with the normal PATH (builds from source)"
p="$work/from-source"
project "$p"
if npm_in "$p" "$PATH" "$work/no-prebuild.tgz" >"$work/a.log" 2>&1 &&
  [ -f "$p/node_modules/mesos-cni/build/Release/mesos_cni.node" ] &&
  out=$(cd "$p" && node --input-type=module -e "$probe" 2>&1); then
  ok "install path (a): no prebuild, built from source by node-gyp ($out)"
else
  tail -n 30 "$work/a.log"
  notok "install path (a): tarball without prebuild, built from source"
fi
# (c) The package's command, installed globally (into a prefix of our own, not the machine's).
step "npm install -g of the tarball: the mesos-cni command"
g="$work/global"
bins="$work/cni-bin"
if (cd "$work" && env -i HOME="${HOME:-/root}" PATH="$PATH" CI=true npm install -g --prefix "$g" --no-audit --no-fund --prefer-offline "$tarball") >"$work/c.log" 2>&1 &&
  found=$(env -i PATH="$g/bin:$PATH" sh -c 'command -v mesos-cni') && [ "$found" = "$g/bin/mesos-cni" ] &&
  env -i PATH="$g/bin:$PATH" mesos-cni install --cni-bin-dir "$bins" >"$work/c-install.log" 2>&1 &&
  ver=$(echo '{"cniVersion":"1.0.0"}' | env -i PATH="$PATH" CNI_COMMAND=VERSION "$bins/bridge" 2>&1) && [[ "$ver" == *supportedVersions* ]]; then
  ok "npm install -g: mesos-cni is on PATH ($found) and 'mesos-cni install --cni-bin-dir' wrote $(ls "$bins" | wc -l) plugins (bridge answers VERSION)"
else
  tail -n 30 "$work/c.log" "$work/c-install.log" 2>/dev/null
  echo "# found=${found:-} ver=${ver:-}"
  notok "npm install -g: the mesos-cni command"
fi
exit $failed
