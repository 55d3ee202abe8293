"""``Cache-Control: no-store`` on every dynamic response.

Any page, fragment, API answer or export may carry a patient's data, and a shared browser,
a back button after sign-out or a caching proxy must not keep a copy. Only static assets
(``/static/``, and the versioned Plotly bundle under ``/assets/``) may be cached; they carry no
patient data. The sign-in page is no-stored as well: it holds a CSRF token, and leaving it in
is simpler than a list of public pages to keep correct.
"""

from __future__ import annotations

from django.conf import settings
from django.utils.cache import add_never_cache_headers


def cacheable_prefixes() -> tuple[str, ...]:
    static = "/" + settings.STATIC_URL.lstrip("/")
    return (static, *getattr(settings, "CACHEABLE_PATH_PREFIXES", ()))


class NoStoreMiddleware:
    """Marks every response outside the static asset paths as not to be stored."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        if not request.path_info.startswith(cacheable_prefixes()):
            # Replaces whatever a view set: ``never_cache`` writes no-store, no-cache,
            # must-revalidate, private and max-age=0, plus an Expires in the past.
            if "Cache-Control" in response:
                del response["Cache-Control"]
            add_never_cache_headers(response)
        return response
