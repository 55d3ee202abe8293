"""Concurrent submissions on PostgreSQL: the same person at once is one request, and one
client cannot slip past the hourly limit by sending many at once."""

from __future__ import annotations

import threading

import pytest
from django.db import connection, connections
from django.test import Client

from ketaclinic.intake.models import ConsultationRequest
from ketaclinic.intake.tests.makers import post, valid_body

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(
        connection.vendor != "postgresql",
        reason="SQLite's IMMEDIATE transactions serialise writers; the race is PostgreSQL's",
    ),
]


def at_once(bodies: list[dict], address: str = "203.0.113.90") -> list[int]:
    barrier = threading.Barrier(len(bodies))
    statuses: list[int] = []

    def send(body):
        try:
            barrier.wait()
            statuses.append(post(Client(), body, address).status_code)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=send, args=(body,)) for body in bodies]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return statuses


def test_the_same_person_sending_four_times_at_once_is_one_request():
    statuses = at_once([valid_body()] * 4)
    assert statuses == [201] * 4
    assert ConsultationRequest.objects.count() == 1


def test_eight_at_once_from_one_client_store_at_most_five():
    statuses = at_once([valid_body(email=f"p{n}@example.org") for n in range(8)])
    assert sorted(statuses) == [201] * 5 + [429] * 3
    assert ConsultationRequest.objects.count() == 5
