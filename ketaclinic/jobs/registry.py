"""The periodic jobs: each app registers its own from ``AppConfig.ready()``.

``jobs`` sits early in the dependency order (after ``accounts``), so any later app may call
``register_command(...)`` without ``jobs`` ever importing it, as apps register chart tabs.
"""

from __future__ import annotations

import datetime as dt
import io
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta

from django.core.management import call_command


@dataclass(frozen=True)
class JobSpec:
    """One periodic job: a name shown to the clinic admin, what to run, and how often."""

    name: str
    description: str
    every: dt.timedelta
    run: Callable[[], str]
    # A run that takes longer is presumed dead (its server crashed) and may be claimed again.
    lease: dt.timedelta = dt.timedelta(minutes=15)


@dataclass
class Registry:
    jobs: dict[str, JobSpec] = field(default_factory=dict)

    def add(self, spec: JobSpec) -> JobSpec:
        known = self.jobs.get(spec.name)
        if known is not None and (known.every, known.description) != (spec.every, spec.description):
            raise ValueError(f"a job named {spec.name!r} is already registered")
        if spec.every < dt.timedelta(seconds=1):
            raise ValueError(f"job {spec.name!r} must run at most once a second")
        self.jobs[spec.name] = spec
        return spec

    def get(self, name: str) -> JobSpec | None:
        return self.jobs.get(name)

    def names(self) -> list[str]:
        return sorted(self.jobs)


REGISTRY = Registry()

__all__ = ["REGISTRY", "JobSpec", "Registry", "register_command", "timedelta"]


def command_runner(command: str, *args: str) -> Callable[[], str]:
    """Run a management command in-process and keep what it printed as the run's message."""

    def run() -> str:
        out = io.StringIO()
        call_command(command, *args, stdout=out)
        return out.getvalue().strip()

    run.__qualname__ = f"{command} {' '.join(args)}".strip()
    return run


def register_command(
    command: str,
    *args: str,
    every: dt.timedelta,
    description: str,
    name: str | None = None,
    lease: dt.timedelta = dt.timedelta(minutes=15),
    registry: Registry | None = None,
) -> JobSpec:
    """Run ``manage.py command *args`` every ``every``. The command stays usable by hand."""
    spec = JobSpec(
        name=name or command,
        description=description,
        every=every,
        run=command_runner(command, *args),
        lease=lease,
    )
    return (registry or REGISTRY).add(spec)
