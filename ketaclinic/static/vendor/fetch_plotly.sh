#!/bin/sh
# Vendors Plotly's partial "basic" bundle (scatter, bar, pie; error bars, shapes, annotations:
# every trace type ketaclinic's figures use) from the npm registry, with its licence.
# The version matches plotly.js inside the Python `plotly` package the server uses.
# Run from anywhere: sh ketaclinic/static/vendor/fetch_plotly.sh [version]
set -eu
VERSION="${1:-3.7.0}"
HERE="$(cd "$(dirname "$0")" && pwd)"
WORK="$(mktemp -d)"
trap 'rm -rf "$WORK"' EXIT
cd "$WORK"
npm pack --silent "plotly.js-basic-dist-min@$VERSION" >/dev/null
tar -xzf plotly.js-basic-dist-min-"$VERSION".tgz
cp package/plotly-basic.min.js "$HERE/plotly-basic.min.js"
cp package/LICENSE "$HERE/plotly-basic.LICENSE" 2>/dev/null || cp package/LICENSE* "$HERE/plotly-basic.LICENSE"
echo "plotly.js-basic-dist-min $VERSION vendored into $HERE"
