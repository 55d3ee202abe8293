"""``{% plotly_script %}`` loads the locally served Plotly; ``{% plot %}`` draws one figure."""

from __future__ import annotations

from django import template
from django.templatetags.static import static
from django.utils.html import format_html, json_script

from ketaclinic.analytics.assets import PLOTLY_STATIC

register = template.Library()


@register.simple_tag
def plotly_script() -> str:
    # The partial "basic" bundle (scatter, bar) vendored in static/vendor: a quarter of the
    # full build; whitenoise serves it compressed under a hashed, far-future-cached name.
    return format_html(
        '<script src="{}" defer data-draw-plots></script><script src="{}" defer></script>',
        static(PLOTLY_STATIC),
        static("outcomes/plots.js"),
    )


@register.simple_tag
def plot(element_id: str, figure: dict, label: str = "") -> str:
    """A container the page script fills with ``figure``, plus the figure as JSON."""
    return format_html(
        '<div class="plot" id="{}" data-figure="{}-data" role="img" aria-label="{}"></div>{}',
        element_id,
        element_id,
        label,
        json_script(figure, f"{element_id}-data"),
    )
