"""A JSON answer rendered as the API renders its own, for a handler that answers directly.

An app's API handler that must answer a status its response schema does not declare (a
refusal with its own error list) answers with :func:`json_answer` rather than reaching for
the root API (``ketaclinic/api.py``), which apps never import. Imports no app.
"""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest, HttpResponse
from ninja.renderers import JSONRenderer


class FiniteJsonRenderer(JSONRenderer):
    """The API never emits NaN or Infinity: a non-finite number is a bug (a logged 500)."""

    json_dumps_params = {"allow_nan": False}


RENDERER = FiniteJsonRenderer()
CONTENT_TYPE = f"{RENDERER.media_type}; charset={RENDERER.charset}"


def json_answer(request: HttpRequest, body: Any, status: int) -> HttpResponse:
    """``body`` as JSON with ``status``: the bytes and content type the API itself sends."""
    content = RENDERER.render(request, body, response_status=status)
    return HttpResponse(content, status=status, content_type=CONTENT_TYPE)
