"""Behind a proxy, lockout and the audit trail see the client's address, not the proxy's."""

from __future__ import annotations

import pytest
from django.test import Client, RequestFactory, override_settings

from ketaclinic.audit import trail
from ketaclinic.audit.models import AuditEvent
from ketaclinic.conftest import PASSWORD
from ketaclinic.web.client import client_address

PROXY = "10.0.0.2"


def request_from(remote: str = PROXY, forwarded: str | None = None):
    extra = {"REMOTE_ADDR": remote}
    if forwarded is not None:
        extra["HTTP_X_FORWARDED_FOR"] = forwarded
    return RequestFactory().get("/", **extra)


def test_without_a_proxy_the_peer_is_the_client_and_the_header_is_ignored():
    with override_settings(BEHIND_PROXY=False):
        assert client_address(request_from("198.51.100.9", "203.0.113.1")) == "198.51.100.9"


@override_settings(BEHIND_PROXY=True, PROXY_COUNT=1)
def test_behind_one_proxy_the_client_is_the_entry_that_proxy_added():
    assert client_address(request_from(forwarded="203.0.113.7")) == "203.0.113.7"


@override_settings(BEHIND_PROXY=True, PROXY_COUNT=1)
def test_entries_the_client_wrote_itself_are_ignored():
    spoofed = request_from(forwarded="1.2.3.4, 5.6.7.8, 203.0.113.7")

    assert client_address(spoofed) == "203.0.113.7"


@override_settings(BEHIND_PROXY=True, PROXY_COUNT=2)
def test_behind_two_proxies_the_client_is_second_from_the_right():
    request = request_from(forwarded="1.2.3.4, 203.0.113.7, 10.0.0.1")

    assert client_address(request) == "203.0.113.7"


@override_settings(BEHIND_PROXY=True, PROXY_COUNT=2)
def test_too_few_entries_fall_back_to_the_peer():
    assert client_address(request_from(forwarded="203.0.113.7")) == PROXY


@override_settings(BEHIND_PROXY=True, PROXY_COUNT=1)
@pytest.mark.parametrize(
    ("entry", "expected"),
    [
        ("203.0.113.7:51234", "203.0.113.7"),
        ("[2001:db8::1]:443", "2001:db8::1"),
        ("2001:db8::1", "2001:db8::1"),
        ("not-an-address", PROXY),
        ("", PROXY),
    ],
)
def test_ports_are_dropped_and_garbage_falls_back_to_the_peer(entry, expected):
    assert client_address(request_from(forwarded=entry)) == expected


@override_settings(BEHIND_PROXY=True, PROXY_COUNT=1)
def test_the_audit_trail_records_the_client_address(db):
    event = trail.record(action="test.read", request=request_from(forwarded="9.9.9.9, 203.0.113.7"))

    assert AuditEvent.objects.get(pk=event.pk).ip_address == "203.0.113.7"


def sign_in_from(client: Client, username: str, address: str, password: str = "wrong-password"):
    return client.post(
        "/accounts/login/",
        {"username": username, "password": password},
        REMOTE_ADDR=PROXY,
        HTTP_X_FORWARDED_FOR=address,
    )


@override_settings(BEHIND_PROXY=True, PROXY_COUNT=1, AXES_FAILURE_LIMIT=3)
def test_an_attacker_behind_the_proxy_locks_only_their_own_pair(nurse, prescriber):
    attacker = Client()
    for _ in range(3):
        sign_in_from(attacker, "nurse", "203.0.113.66")
    for _ in range(3):
        sign_in_from(attacker, "prescriber", "203.0.113.66")

    locked = sign_in_from(attacker, "nurse", "203.0.113.66", PASSWORD)
    # The real nurse, behind the same proxy but from her own address, still signs in; so
    # does the prescriber: the lock is on username + client address, not on the proxy.
    nurse_from_ward = sign_in_from(Client(), "nurse", "198.51.100.20", PASSWORD)
    prescriber_from_home = sign_in_from(Client(), "prescriber", "198.51.100.21", PASSWORD)

    assert locked.status_code == 429
    assert nurse_from_ward.status_code == 302
    assert prescriber_from_home.status_code == 302


@override_settings(BEHIND_PROXY=True, PROXY_COUNT=1, AXES_FAILURE_LIMIT=3)
def test_a_spoofed_forwarded_header_does_not_escape_the_lock(nurse):
    attacker = Client()
    for n in range(3):
        # Each try claims a new address on the left; the proxy appends the real one.
        sign_in_from(attacker, "nurse", f"192.0.2.{n}, 203.0.113.66")

    retry = sign_in_from(attacker, "nurse", "192.0.2.200, 203.0.113.66", PASSWORD)

    assert retry.status_code == 429
