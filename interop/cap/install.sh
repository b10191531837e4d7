#!/usr/bin/env bash
# Installs the CAP interop suite's node modules (npm ci from the committed
# package-lock.json) into a cache outside the clone, keyed by the lockfile's
# hash, so CI runs and clones share one install. Prints the node_modules
# directory. The native build of better-sqlite3 takes minutes; node's
# headers are taken from the machine (--nodedir), never downloaded.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
hash=$(sha256sum "$here/package-lock.json" | cut -c1-16)
dir="${DELTASCOPE_CAP_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/deltascope/cap-$hash}"
if [ -f "$dir/node_modules/.deltascope-complete" ]; then
  echo "$dir/node_modules"
  exit 0
fi
mkdir -p "$dir"
cp "$here/package.json" "$here/package-lock.json" "$dir/"
nodedir=""
node_bin="$(readlink -f "$(command -v node)")"
for d in "$(dirname "$node_bin")/.." /usr/local /usr; do
  if [ -f "$d/include/node/node.h" ]; then nodedir="$d"; break; fi
done
args=(ci --no-audit --no-fund)
if [ -n "$nodedir" ]; then args+=("--nodedir=$nodedir"); fi
# No prebuilt binary is fetched (CI has no network for it): build from source.
(cd "$dir" && npm_config_build_from_source=true npm "${args[@]}") >&2
touch "$dir/node_modules/.deltascope-complete"
echo "$dir/node_modules"
