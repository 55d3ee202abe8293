"""Plotly's JavaScript, served from the installed ``plotly`` package (never a CDN).

Clinics run on offline networks, so the browser loads ``/assets/plotly.min.js`` from us. The
URL carries the package version as a query string and is cached for a year.
"""

from __future__ import annotations

from functools import cache
from importlib import metadata, resources
from pathlib import Path

# What pages load: Plotly's partial basic bundle, vendored by static/vendor/fetch_plotly.sh.
PLOTLY_STATIC = "vendor/plotly-basic.min.js"


@cache
def plotly_version() -> str | None:
    try:
        return metadata.version("plotly")
    except metadata.PackageNotFoundError:
        return None


@cache
def plotly_js_path() -> Path | None:
    if plotly_version() is None:
        return None
    path = Path(str(resources.files("plotly").joinpath("package_data", "plotly.min.js")))
    return path if path.exists() else None
