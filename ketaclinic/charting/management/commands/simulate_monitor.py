"""``manage.py simulate_monitor SESSION_ID``: a bedside monitor posting realistic vitals.

The readings go through the real API (``POST /api/v1/sessions/{id}/vitals``) with the
monitor's token, in batches, each with its own ``Idempotency-Key``; a batch whose answer is
lost (connection error, 5xx, 429) is retried with the same key and body, so it is stored
once. Minute 0 of the simulation is the start of dosing.

The physiology follows REFERENCE.md section 3: blood pressure rises by a mean +16/+11 mmHg
to a peak 40 min after the start of an IV 0.5 mg/kg infusion [V: Yale 2024] (esketamine
also peaks at ~40 min and is back by ~1.5 h [2nd: Doherty 2020]), heart rate rises a little
with it, SpO2 stays 96–99 % and the respiratory rate 12–18 /min, with measurement noise. The
cuff measures blood pressure every few minutes; the oximeter gives HR and SpO2 with every
reading. ``--hypertensive-at M`` adds a hypertensive excursion (>= 180/110 at minutes M,
M+5 and M+10) that the default policy answers with ``bp_high`` then ``bp_high_sustained``.

Two ways to run:

- default (replay): the whole run is posted at once, timed so that it ends now (it starts
  no earlier than the session opened, when the session is in this database);
- ``--realtime``: one reading every ``--interval`` seconds as it happens, like a monitor.
"""

from __future__ import annotations

import datetime as dt
import json
import math
import random
import time
import urllib.error
import urllib.request
import uuid
from dataclasses import dataclass

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

#: Peak of the blood-pressure rise after dosing starts, and its size (REFERENCE.md 3).
BP_PEAK_MINUTE = 40.0
BP_RISE_MMHG = (16.0, 11.0)
#: Back to baseline by then (esketamine ~1.5 h [2nd: Doherty 2020]; assumed for IV too).
BP_BACK_BY_MINUTE = 90.0
HR_RISE_BPM = 8.0
EXCURSION_MINUTES = (0, 5, 10)
RETRY_STATUSES = frozenset({408, 429, 500, 502, 503, 504})


def rise(minute: float) -> float:
    """0 at dose start, 1 at the 40-min peak, 0 again by 90 min: a smooth hump."""
    if minute <= 0 or minute >= BP_BACK_BY_MINUTE:
        return 0.0
    if minute <= BP_PEAK_MINUTE:
        return math.sin(math.pi / 2 * minute / BP_PEAK_MINUTE)
    fall = (minute - BP_PEAK_MINUTE) / (BP_BACK_BY_MINUTE - BP_PEAK_MINUTE)
    return math.cos(math.pi / 2 * fall)


@dataclass(frozen=True)
class Patient:
    """A simulated patient's resting values."""

    systolic: float
    diastolic: float
    heart_rate: float
    temperature: float

    @classmethod
    def draw(cls, rng: random.Random) -> Patient:
        return cls(
            systolic=rng.gauss(124, 7),
            diastolic=rng.gauss(77, 5),
            heart_rate=rng.gauss(72, 6),
            temperature=rng.gauss(36.7, 0.15),
        )


def simulated_readings(
    *,
    minutes: float,
    interval_s: float,
    seed: int | None = None,
    bp_every_minutes: float = 5,
    hypertensive_at: float | None = None,
) -> list[tuple[float, dict]]:
    """``(minute, values)`` for a run of ``minutes``, one reading every ``interval_s``."""
    if minutes <= 0 or interval_s <= 0:
        raise ValueError("minutes and interval must be above 0")
    rng = random.Random(seed)
    patient = Patient.draw(rng)
    cuff_times = [k * bp_every_minutes for k in range(int(minutes // bp_every_minutes) + 1)]
    if hypertensive_at is not None:
        cuff_times += [hypertensive_at + offset for offset in EXCURSION_MINUTES]
    pending = sorted(set(cuff_times))
    step = interval_s / 60
    readings = []
    for index in range(int(minutes / step) + 1):
        minute = round(index * step, 6)
        hump = rise(minute)
        values = {
            "heart_rate_bpm": round(patient.heart_rate + HR_RISE_BPM * hump + rng.gauss(0, 3)),
            "spo2_pct": rng.randint(96, 99),
            "resp_rate_per_min": rng.randint(12, 18),
        }
        if pending and pending[0] <= minute + 1e-9:
            while pending and pending[0] <= minute + 1e-9:
                pending.pop(0)
            systolic = patient.systolic + BP_RISE_MMHG[0] * hump + rng.gauss(0, 4)
            diastolic = patient.diastolic + BP_RISE_MMHG[1] * hump + rng.gauss(0, 3)
            if hypertensive_at is not None and hypertensive_at <= minute <= hypertensive_at + 10:
                systolic = max(systolic, 184 + abs(rng.gauss(0, 3)))
                diastolic = max(diastolic, 111 + abs(rng.gauss(0, 2)))
            values["systolic_mmhg"] = round(systolic)
            values["diastolic_mmhg"] = min(round(diastolic), round(systolic) - 20)
        if minute % 15 < step - 1e-9:
            values["temperature_c"] = round(patient.temperature + rng.gauss(0, 0.05), 1)
        readings.append((minute, values))
    return readings


class Command(BaseCommand):
    help = (
        "Post realistic vitals for SESSION_ID through the API, as a bedside monitor would. "
        "Without --token, registers a monitor in the session's chair (this database)."
    )

    def add_arguments(self, parser):
        parser.add_argument("session_id", type=int)
        parser.add_argument("--token", help="The monitor's token (manage.py monitor_create).")
        parser.add_argument("--minutes", type=float, default=60, help="Length of the run.")
        parser.add_argument("--interval", type=float, default=60, help="Seconds between readings.")
        parser.add_argument("--url", default="http://127.0.0.1:8000", help="The server.")
        parser.add_argument(
            "--hypertensive-at",
            type=float,
            help="Minute of a hypertensive excursion (>= 180/110 for 10 min).",
        )
        parser.add_argument(
            "--bp-every", type=float, default=5, help="Minutes between cuff readings."
        )
        parser.add_argument(
            "--batch", type=int, help="Readings per request (default 10; 1 with --realtime)."
        )
        parser.add_argument("--realtime", action="store_true", help="Take readings as time passes.")
        parser.add_argument("--seed", type=int, help="Make the run reproducible.")
        parser.add_argument("--retries", type=int, default=5, help="Per batch, on failure.")

    def handle(self, session_id: int, **options):
        token = options["token"] or self.register_monitor(session_id)
        readings = simulated_readings(
            minutes=options["minutes"],
            interval_s=options["interval"],
            seed=options["seed"],
            bp_every_minutes=options["bp_every"],
            hypertensive_at=options["hypertensive_at"],
        )
        batch_size = options["batch"] or (1 if options["realtime"] else 10)
        if batch_size < 1:
            raise CommandError("--batch must be at least 1")
        self.endpoint = f"{options['url'].rstrip('/')}/api/v1/sessions/{session_id}/vitals"
        self.token, self.retries = token, options["retries"]
        self.run_id = uuid.uuid4().hex[:12]
        self.totals = {"stored": 0, "rejected": 0, "alerts": []}
        if options["realtime"]:
            self.run_realtime(readings, batch_size)
        else:
            self.run_replay(session_id, readings, batch_size, options["minutes"])
        alerts = ", ".join(self.totals["alerts"]) or "none"
        self.stdout.write(
            f"done: {self.totals['stored']} readings stored, {self.totals['rejected']} "
            f"rejected; alerts raised: {alerts}"
        )

    # ------------------------------------------------------------ setting up

    def register_monitor(self, session_id: int) -> str:
        from ketaclinic.charting.devices import monitor_issue
        from ketaclinic.charting.models import TreatmentSession

        session = (
            TreatmentSession.objects.select_related("chair__room").filter(pk=session_id).first()
        )
        if session is None:
            raise CommandError(f"no session {session_id} in this database; pass --token")
        if session.chair is None:
            raise CommandError(f"session {session_id} has no chair to put a monitor in")
        device, raw = monitor_issue(
            chair=session.chair, name=f"Simulated monitor ({session.chair})"
        )
        self.stderr.write(
            f"registered simulated monitor {device.pk} in {session.chair} "
            f"(revoke: manage.py monitor_revoke {device.pk})"
        )
        return raw

    def replay_start(self, session_id: int, minutes: float) -> dt.datetime:
        """Start so that the run ends now, but not before the session opened."""
        from ketaclinic.charting.models import TreatmentSession

        now = timezone.now()
        start = now - dt.timedelta(minutes=minutes)
        opened = (
            TreatmentSession.objects.filter(pk=session_id)
            .values_list("opened_at", flat=True)
            .first()
        )
        if opened is not None and start < opened:
            start = opened + dt.timedelta(seconds=1)
            self.stderr.write(
                f"the session opened {(now - opened).total_seconds() / 60:.0f} min ago: "
                "replaying only up to now"
            )
        return start

    # ------------------------------------------------------------ running

    def run_replay(self, session_id, readings, batch_size: int, minutes: float) -> None:
        start = self.replay_start(session_id, minutes)
        now = timezone.now()
        timed = [(start + dt.timedelta(minutes=minute), values) for minute, values in readings]
        timed = [(at, values) for at, values in timed if at <= now]
        for first in range(0, len(timed), batch_size):
            self.send(timed[first : first + batch_size])

    def run_realtime(self, readings, batch_size: int) -> None:
        origin = time.monotonic()
        buffer: list = []
        for minute, values in readings:
            delay = origin + minute * 60 - time.monotonic()
            if delay > 0:
                time.sleep(delay)
            buffer.append((timezone.now(), values))
            if len(buffer) >= batch_size:
                self.send(buffer)
                buffer = []
        if buffer:
            self.send(buffer)

    def send(self, batch: list[tuple[dt.datetime, dict]]) -> None:
        """Post one batch; retry the same key and body until it gets a definite answer."""
        self.batches = getattr(self, "batches", 0) + 1
        key = f"sim-{self.run_id}-{self.batches:05d}"
        body = json.dumps(
            {"readings": [{"taken_at": at.isoformat(), **values} for at, values in batch]}
        ).encode()
        status, answer = self.post(body, key)
        if status not in (201, 422):
            raise CommandError(f"batch {self.batches}: the server answered {status}: {answer}")
        self.totals["stored"] += answer.get("stored", 0)
        self.totals["rejected"] += len(answer.get("rejected", []))
        codes = [f"{a['code']} ({a['level']})" for a in answer.get("alerts", [])]
        self.totals["alerts"] += codes
        last = timezone.localtime(batch[-1][0]).strftime("%H:%M:%S")
        line = f"{last} batch {self.batches}: {answer.get('stored', 0)} stored"
        if answer.get("rejected"):
            reasons = "; ".join(r["message"] for r in answer["rejected"])
            line += f", {len(answer['rejected'])} rejected ({reasons})"
        if codes:
            line += f"; alerts: {', '.join(codes)}"
        self.stdout.write(line)

    def post(self, body: bytes, key: str) -> tuple[int, dict]:
        failure = ""
        for attempt in range(self.retries + 1):
            if attempt:
                time.sleep(min(8.0, 0.25 * 2**attempt))
            request = urllib.request.Request(
                self.endpoint,
                data=body,
                method="POST",
                headers={
                    "Authorization": f"Bearer {self.token}",
                    "Idempotency-Key": key,
                    "Content-Type": "application/json",
                },
            )
            try:
                with urllib.request.urlopen(request, timeout=30) as response:
                    return response.status, json.loads(response.read() or b"{}")
            except urllib.error.HTTPError as error:
                text = error.read().decode(errors="replace")
                if error.code not in RETRY_STATUSES:
                    try:
                        return error.code, json.loads(text)
                    except ValueError:
                        return error.code, {"message": text[:300]}
                failure = f"HTTP {error.code}"
            except (OSError, ValueError) as error:  # refused, reset, timed out, cut short
                failure = repr(error)
            self.stderr.write(f"batch {key}: {failure}; retrying with the same key")
        raise CommandError(
            f"gave up on batch {key} after {self.retries + 1} attempts ({failure}); "
            "the batches answered before it are stored"
        )
