"""Pages of the front door: the public request form and the staff triage queue."""

from __future__ import annotations

from django.http import HttpResponse


def queue(request):  # filled in below in this issue
    return HttpResponse(status=404)


def request_detail(request, request_id: int):
    return HttpResponse(status=404)
