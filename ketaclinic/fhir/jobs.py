"""Working Bulk Data export jobs outside the request: claim, stream to NDJSON, expire.

Claiming is safe with several workers: on PostgreSQL the candidate row is locked with
``select_for_update(skip_locked=True)`` (a second worker skips it); on SQLite the project's
transactions are ``BEGIN IMMEDIATE``, so the claim's read-then-write holds the write lock and
a second worker waits, then sees the job taken. A running job carries a lease, renewed as
it writes; a job whose lease ran out (its worker died) is claimed again from the start.

Files are written line by line from ``registry.iter_resources`` (memory flat), mode 0600,
under ``VAR_DIR/exports/<job id>/<Type>.ndjson``.
"""

from __future__ import annotations

import datetime as dt
import os
import shutil
import socket
from pathlib import Path

from django.conf import settings
from django.core.serializers.json import DjangoJSONEncoder
from django.db import connection, transaction
from django.db.models import Q
from django.utils import timezone

from ketaclinic.audit import trail
from ketaclinic.audit.models import Outcome

from . import bulk_groups
from .bulk_models import ExportJob, ExportLevel, ExportStatus
from .registry import iter_resources

LEASE = dt.timedelta(minutes=5)
KEEP_FILES = dt.timedelta(hours=24)
# Renew the lease and the progress line, and notice a cancellation, this often.
HEARTBEAT_EVERY = 5000


class Cancelled(Exception):
    pass


def export_root() -> Path:
    return Path(getattr(settings, "FHIR_EXPORT_DIR", None) or Path(settings.VAR_DIR) / "exports")


def job_dir(job: ExportJob) -> Path:
    return export_root() / str(job.id)


def worker_name() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


def claim(*, worker: str | None = None, now: dt.datetime | None = None) -> ExportJob | None:
    """Take the oldest queued job, or a running one whose worker's lease ran out."""
    now = now or timezone.now()
    worker = worker or worker_name()
    with transaction.atomic():
        candidates = ExportJob.objects.filter(
            Q(status=ExportStatus.QUEUED) | Q(status=ExportStatus.RUNNING, lease_until__lt=now)
        ).order_by("created_at")
        if connection.features.has_select_for_update_skip_locked:
            candidates = candidates.select_for_update(skip_locked=True)
        job = candidates.first()
        if job is None:
            return None
        job.status = ExportStatus.RUNNING
        job.worker = worker
        job.lease_until = now + LEASE
        job.started_at = now
        job.attempts += 1
        job.progress = "Starting"
        job.save(
            update_fields=["status", "worker", "lease_until", "started_at", "attempts", "progress"]
        )
    return job


def patient_ids_of(job: ExportJob) -> list[int] | None:
    if job.level == ExportLevel.GROUP:
        cohort = bulk_groups.find(job.group_id)
        return cohort.patient_ids() if cohort is not None else []
    return None


def heartbeat(job: ExportJob, progress: str) -> None:
    """Renew the lease; stop if the requester cancelled or another worker took over."""
    still_ours = ExportJob.objects.filter(
        pk=job.pk, status=ExportStatus.RUNNING, worker=job.worker
    ).update(lease_until=timezone.now() + LEASE, progress=progress[:120])
    if not still_ours:
        raise Cancelled


def open_private(path: Path):
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    return os.fdopen(fd, "w", encoding="utf-8", newline="\n")


def write_type(job: ExportJob, type_name: str, folder: Path, patient_ids, done: int) -> dict:
    path = folder / f"{type_name}.ndjson"
    count = 0
    encoder = DjangoJSONEncoder(ensure_ascii=False, separators=(",", ":"), allow_nan=False)
    with open_private(path) as out:
        for resource in iter_resources(type_name, patient_ids=patient_ids, since=job.since):
            out.write(encoder.encode(resource))
            out.write("\n")
            count += 1
            if count % HEARTBEAT_EVERY == 0:
                heartbeat(job, f"{type_name}: {count} resources ({done + count} in all)")
    return {"type": type_name, "file": path.name, "count": count, "bytes": path.stat().st_size}


def run(job: ExportJob) -> ExportJob:
    """Write every requested type's file and complete the job (or record its failure)."""
    folder = job_dir(job)
    shutil.rmtree(folder, ignore_errors=True)  # a re-claimed job starts again
    folder.mkdir(parents=True, mode=0o700)
    patient_ids = patient_ids_of(job)
    outputs: list[dict] = []
    done = 0
    try:
        for index, type_name in enumerate(job.types):
            heartbeat(job, f"{type_name} ({index + 1} of {len(job.types)} types)")
            entry = write_type(job, type_name, folder, patient_ids, done)
            done += entry["count"]
            if entry["count"]:
                outputs.append(entry)
            else:
                (folder / entry["file"]).unlink()
    except Cancelled:
        shutil.rmtree(folder, ignore_errors=True)
        job.refresh_from_db()
        return job
    except Exception as problem:  # recorded on the job; the status URL reports it
        shutil.rmtree(folder, ignore_errors=True)
        finish(job, ExportStatus.FAILED, [], [{"type": "", "message": repr(problem)[:500]}])
        raise
    return finish(job, ExportStatus.DONE, outputs, [])


def finish(job: ExportJob, status: str, outputs: list[dict], errors: list[dict]) -> ExportJob:
    now = timezone.now()
    with transaction.atomic():
        updated = ExportJob.objects.filter(
            pk=job.pk, status=ExportStatus.RUNNING, worker=job.worker
        ).update(
            status=status,
            output=outputs,
            errors=errors,
            finished_at=now,
            expires_at=now + KEEP_FILES,
            lease_until=None,
            progress="Complete" if status == ExportStatus.DONE else "Failed",
        )
        if updated:
            trail.record(
                action=f"fhir.bulk_export.{'completed' if status == ExportStatus.DONE else 'failed'}",
                actor=job.requester,
                actor_username=job.requester.username,
                outcome=Outcome.SUCCESS if status == ExportStatus.DONE else Outcome.FAILED,
                detail={
                    "job": str(job.id),
                    "level": job.level,
                    "group": job.group_id,
                    "counts": {o["type"]: o["count"] for o in outputs},
                    "errors": errors,
                },
            )
    job.refresh_from_db()
    return job


def cleanup(*, now: dt.datetime | None = None) -> int:
    """Delete the files of jobs past their 24 hours, and of cancelled jobs; the row stays
    (status expired) as the record of what was exported."""
    now = now or timezone.now()
    removed = 0
    expired = ExportJob.objects.filter(
        Q(status__in=(ExportStatus.DONE, ExportStatus.FAILED), expires_at__lte=now)
    )
    for job in expired.iterator():
        shutil.rmtree(job_dir(job), ignore_errors=True)
        ExportJob.objects.filter(pk=job.pk).update(status=ExportStatus.EXPIRED, output=[])
        removed += 1
    for job in ExportJob.objects.filter(status=ExportStatus.CANCELLED).iterator():
        shutil.rmtree(job_dir(job), ignore_errors=True)
    return removed


def work_one(*, worker: str | None = None) -> ExportJob | None:
    """Claim and run one job, if any; the unit of ``fhir_export_worker --once``."""
    job = claim(worker=worker)
    return run(job) if job is not None else None
