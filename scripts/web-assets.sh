#!/usr/bin/env bash
# Install the browser assets that the qunlian web app serves itself (no CDN; DESIGN §7).
# Versions are pinned in package.json and package-lock.json; `npm ci` installs exactly those.
# Run from anywhere: scripts/web-assets.sh
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
export SCARF_ANALYTICS=false  # swagger-ui-dist's telemetry dependency; scripts are ignored anyway
npm ci --ignore-scripts --no-audit --no-fund
vendor=src/qunlian/platform/web/static/vendor
rm -rf "$vendor"
mkdir -p "$vendor"
cp node_modules/htmx.org/dist/htmx.min.js "$vendor/"
cp node_modules/echarts/dist/echarts.min.js "$vendor/"
cp node_modules/swagger-ui-dist/swagger-ui-bundle.js node_modules/swagger-ui-dist/swagger-ui.css "$vendor/"
for pkg in htmx.org echarts swagger-ui-dist; do
  cp "node_modules/$pkg/LICENSE" "$vendor/LICENSE.$pkg" 2>/dev/null || true
done
node -e 'const l=require("./package-lock.json").packages;for(const p of ["htmx.org","echarts","swagger-ui-dist"])console.log(p, l["node_modules/"+p].version)' > "$vendor/VERSIONS"
echo "web assets installed in $vendor:"
cat "$vendor/VERSIONS"
