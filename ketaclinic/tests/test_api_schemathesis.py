"""Every API operation, fuzzed from its own OpenAPI document, answers as documented.

Schemathesis generates requests for each operation (valid ones and ones that break the
schema) and sends each with a staff token and with a patient token (a monitor's token too
where the operation takes one). Every answer must pass four checks: no 5xx, a documented
status code, a body that matches the documented schema for that status, and the documented
content type. 25 examples per operation and generation mode, derandomized: CI repeats the
same requests. Runs once per CI, on SQLite (in ``make test-sqlite``); it is skipped on
PostgreSQL to keep CI short (it passes there too when the skip is lifted), and there a bug that
fails a statement would abort the test's transaction and hide the examples after it.
"""

from __future__ import annotations

import time

import pytest
import schemathesis
from django.core.signals import request_finished, request_started
from django.core.wsgi import get_wsgi_application
from django.db import close_old_connections, connection
from hypothesis import HealthCheck, Phase, given, settings
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from ketaclinic.api import api
from ketaclinic.tests.clinic import make_clinic

pytestmark = [
    pytest.mark.schemathesis,
    pytest.mark.skipif(
        connection.vendor != "sqlite",
        reason="fuzzed once per CI, on SQLite (make test-sqlite)",
    ),
]

CHECKS = [
    not_a_server_error,
    status_code_conformance,
    response_schema_conformance,
    content_type_conformance,
]
MAX_EXAMPLES = 25
MODES = (GenerationMode.POSITIVE, GenerationMode.NEGATIVE)


@pytest.fixture
def wsgi_app(settings):
    """Django's WSGI app inside the test's transaction, as Django's test client runs it.

    A real request closes the database connection around itself; inside a test that would
    end the test's transaction, so, like ``django.test.Client``, the app leaves it open.
    """
    settings.ALLOWED_HOSTS = ["*"]
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    try:
        yield get_wsgi_application()
    finally:
        request_started.connect(close_old_connections)
        request_finished.connect(close_old_connections)


@pytest.fixture
def clinic(prescriber, nurse, patient_a):
    return make_clinic(prescriber, nurse, patient_a)


def tokens_for(operation, clinic) -> list[str]:
    tokens = [clinic.staff_token, clinic.patient_token]
    if any("DeviceToken" in scheme for scheme in operation.definition.raw.get("security", [])):
        tokens.append(clinic.monitor_token)
    return tokens


def with_real_ids(case, ids: dict) -> None:
    """Point about two of three generated ids (in the path or the body) at real records."""
    replace_ids(case.path_parameters, ids)
    if isinstance(case.body, dict):
        replace_ids(case.body, {name: v for name, v in ids.items() if name.endswith("_id")})


def replace_ids(values: dict | None, ids: dict) -> None:
    for name, value in (values or {}).items():
        if name in ids and isinstance(value, int | str) and len(str(value)) % 3:
            values[name] = ids[name]


def fuzz(operation, clinic, mode, answered: dict[int, int]) -> None:
    ids = clinic.ids()
    tokens = tokens_for(operation, clinic)

    @settings(
        max_examples=MAX_EXAMPLES,
        derandomize=True,
        database=None,
        deadline=None,
        phases=[Phase.explicit, Phase.generate],
        suppress_health_check=list(HealthCheck),
    )
    @given(case=operation.as_strategy(generation_mode=mode))
    def run(case):
        with_real_ids(case, ids)
        for token in tokens:
            response = case.call_and_validate(
                headers={"Authorization": f"Bearer {token}"}, checks=CHECKS
            )
            answered[response.status_code] = answered.get(response.status_code, 0) + 1

    run()


def test_every_operation_answers_as_documented_for_staff_and_patients(db, wsgi_app, clinic):
    schema = schemathesis.openapi.from_dict(api.get_openapi_schema())
    schema.app = wsgi_app
    failures: list[str] = []
    timings: list[tuple[float, str]] = []
    answered: dict[str, dict[int, int]] = {}
    started = time.monotonic()
    operations = [result.ok() for result in schema.get_all_operations()]
    assert operations, "the schema lists no operations"
    for operation in operations:
        for mode in MODES:
            began = time.monotonic()
            try:
                fuzz(operation, clinic, mode, answered.setdefault(operation.label, {}))
            # Every operation runs and all failures are reported (FailureGroup is a
            # BaseExceptionGroup).
            except (Exception, BaseExceptionGroup) as error:
                failures.append(f"{operation.label} [{mode.value}]\n{error}")
            timings.append((time.monotonic() - began, f"{operation.label} [{mode.value}]"))
    elapsed = time.monotonic() - started
    print(f"schemathesis: {len(operations)} operations in {elapsed:.1f} s")
    for spent, label in sorted(timings, reverse=True)[:10]:
        print(f"{spent:6.2f} s  {label}")
    for label, statuses in answered.items():  # with -s: what the fuzzing reached
        print(label, dict(sorted(statuses.items())))
    assert not failures, "\n\n".join(failures)
