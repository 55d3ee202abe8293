"""People read the clinic's words on every page and printout, never the software's own.

A freshly loaded demo clinic (its 40 detailed patients, plus one session running now, a
consent signed on the portal, a calendar feed and one bundle of records received from another
EHR) is walked as every role and as nobody signed in: each GET route of ``ketaclinic.urls``
with its path filled from real objects (chosen states first, then the links the pages and the
emails themselves offer), the PDF printouts and the calendar feed among them, refusals and
errors included, and every email the clinic sends. Visible text (not attributes, scripts,
styles or URLs) must carry no internal marker: issue numbers, "seed 00x", REFERENCE.md,
evidence tags ([V], [U]), file names, snake_case codes, Python dict reprs, or raw status codes
joined by an arrow. A ``<code>`` element may show a command or a file by its name, never the
rest. Codes belong to the API and its JSON; routes that serve them are listed with a reason.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import io
import re
import zlib
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass, field
from html.parser import HTMLParser
from urllib.parse import urlsplit

import pytest
from django.conf import settings
from django.core import mail
from django.core.management import call_command
from django.db import transaction
from django.db.models import Count
from django.test import Client, override_settings
from django.urls import Resolver404, URLPattern, URLResolver, get_resolver, resolve
from django.utils import timezone

from ketaclinic.accounts.models import User
from ketaclinic.billing.models import SessionCharges
from ketaclinic.charting import policy
from ketaclinic.charting.models import SessionStatus, TreatmentSession
from ketaclinic.charting.tests.floor import make_session
from ketaclinic.conftest import make_patient
from ketaclinic.fhir.tests.test_accept_types import MEDICATION
from ketaclinic.fhir.tests.test_import import CONDITION, PATIENT, bundle, post, token_client
from ketaclinic.patients.models import Patient
from ketaclinic.scheduling.models import Appointment, Chair
from ketaclinic.screening.models import Screening

# ---------------------------------------------------------------------------------------------
# What a person must never read.

# Never shown anywhere, not even as code.
NOWHERE = {
    "issue number": re.compile(r"\bissues? #\d", re.IGNORECASE),
    "seed number": re.compile(r"\bseeds? \d{3}\b", re.IGNORECASE),
    "REFERENCE.md": re.compile(r"REFERENCE\.md", re.IGNORECASE),
    "evidence tag": re.compile(r"\[(?:V|U|2nd|1st)(?:[:\]]| ?\])"),
    "Python dict": re.compile(r"""\{\s*['"][^'"]*['"]\s*:\s"""),
}
# What a chart draws (its JSON): its titles, legends and hover texts, never these.
IN_CHART_DATA = {name: NOWHERE[name] for name in NOWHERE if name != "Python dict"}
# Not shown as words (a <code> element may show a command or a file by its name).
MARKERS = NOWHERE | {
    "data file name": re.compile(r"\w\.ya?ml\b"),
    "Python file name": re.compile(r"\w\.py\b"),
    "snake_case code": re.compile(r"\b[a-z][a-z0-9]*(?:_[a-z0-9]+)+\b"),
    "arrow between codes": re.compile(r"\b[a-z][a-z_]*\s*(?:→|->)\s*[a-z][a-z_]*\b"),
}

# snake_case words a person may read, each with why (none needed: every page words its codes).
ALLOWED_CODES: dict[str, str] = {}

# URLs, e-mail addresses and file paths are not words: they are read as addresses.
# An API token's prefix (kc_…) is an identifier a person matches by eye.
ADDRESS = re.compile(
    r"(?:https?://|mailto:)\S+|[\w.+-]+@[\w-]+(?:\.[\w-]+)+|(?<!\w)/[\w./$?=&%:-]*|\bkc_[\w-]+"
)


def offences(text: str, *, markers=MARKERS) -> list[str]:
    """Each internal marker in ``text``, with the words around it."""
    text = ADDRESS.sub(" ", text)
    found = []
    for name, pattern in markers.items():
        for match in pattern.finditer(text):
            if name == "snake_case code" and match.group() in ALLOWED_CODES:
                continue
            around = text[max(match.start() - 50, 0) : match.end() + 50]
            found.append(f"{name}: {match.group()!r} in …{' '.join(around.split())}…")
    return found


# ---------------------------------------------------------------------------------------------
# Reading a page, a PDF and an email as a person does.


class VisibleText(HTMLParser):
    """The text of an HTML page a person reads (no tags, attributes, scripts or styles), the
    text of its code elements and of the data its charts draw (JSON scripts) apart, and the
    links it offers."""

    NOT_READ = frozenset({"script", "style"})
    CODE = frozenset({"code", "kbd", "samp"})

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self.code: list[str] = []
        self.data: list[str] = []
        self.links: list[str] = []
        self.inside = {"hidden": 0, "code": 0, "data": 0}

    def handle_starttag(self, tag, attrs):
        fields = dict(attrs)
        if tag == "script" and fields.get("type") == "application/json":
            self.inside["data"] += 1  # a chart's titles, legends and hover texts
        self.count(tag, +1)
        for name, value in attrs:
            if name in ("href", "action", "src") and value:
                self.links.append(value)
            elif name == "hx-get" and value:  # a poll's query says what it has already seen
                self.links.append(value.split("?")[0])
        self.parts.append(" ")

    def handle_endtag(self, tag):
        if tag == "script" and self.inside["data"]:
            self.inside["data"] -= 1
        self.count(tag, -1)
        self.parts.append(" ")

    def count(self, tag: str, step: int) -> None:
        kind = "hidden" if tag in self.NOT_READ else "code" if tag in self.CODE else None
        if kind:
            self.inside[kind] = max(self.inside[kind] + step, 0)

    def handle_data(self, data):
        if self.inside["data"]:
            self.data.append(data)
        elif not self.inside["hidden"]:
            (self.code if self.inside["code"] else self.parts).append(data)

    def text(self) -> str:
        return " ".join("".join(self.parts).split())


def read_html(content: str) -> tuple[str, str, str, list[str]]:
    """The words of a page, the text of its code elements, its chart data, and its links."""
    parser = VisibleText()
    parser.feed(content)
    parser.close()
    code, data = (" ".join(" ".join(parts).split()) for parts in (parser.code, parser.data))
    return parser.text(), code, data, parser.links


PDF_STREAM = re.compile(rb"stream\r?\n(.*?)\r?\nendstream", re.DOTALL)
PDF_STRING = re.compile(rb"\((?:\\.|[^\\)])*\)")
PDF_ESCAPES = {b"n": b"\n", b"r": b"\r", b"t": b"\t", b"(": b"(", b")": b")", b"\\": b"\\"}


def read_pdf(content: bytes) -> str:
    """The text of an fpdf2 printout: its core-font strings, from each (deflated) stream."""
    words = []
    for stream in PDF_STREAM.findall(content):
        with contextlib.suppress(zlib.error):
            stream = zlib.decompress(stream)
        for literal in PDF_STRING.findall(stream):
            body = re.sub(
                rb"\\([nrt()\\]|[0-7]{1,3})",
                lambda m: PDF_ESCAPES.get(m.group(1)) or bytes([int(m.group(1), 8) & 0xFF]),
                literal[1:-1],
            )
            words.append(body.decode("latin-1"))
    return " ".join(" ".join(words).split())


# ---------------------------------------------------------------------------------------------
# The routes of the site, and the ones not walked on purpose.


def site_routes(patterns=None, prefix: str = "") -> Iterator[tuple[str, URLPattern]]:
    """Every URL pattern of the site, as its full route text."""
    for entry in get_resolver().url_patterns if patterns is None else patterns:
        if isinstance(entry, URLResolver):
            yield from site_routes(entry.url_patterns, prefix + str(entry.pattern))
        else:
            yield prefix + str(entry.pattern), entry


NOT_PAGES = {
    "admin/": "Django's own model admin, the operators' raw-table tool; it shows stored codes",
    "api/v1/": "the JSON API: codes belong there",
    "fhir/R4/": "FHIR R4 JSON for other systems (codes are the standard's)",
    "dashboard/cohort.csv": "a raw data export (CSV) for analysis",
    "billing/charges/export.csv": "a raw data export (CSV) for the billing service",
    "assets/plotly.min.js": "the charting library's script",
    "accounts/mfa/jsi18n/": "the second-factor library's JavaScript catalog",
    "accounts/mfa/passkeys/register/begin/": "JSON for the browser's passkey prompt (POST)",
    "accounts/mfa/passkeys/register/complete/": "JSON for the browser's passkey prompt (POST)",
    "accounts/mfa/passkeys/verify/begin/": "JSON for the browser's passkey prompt (POST)",
    "accounts/mfa/passkeys/verify/complete/": "JSON for the browser's passkey prompt (POST)",
}

# A form's target: GET answers 405, a person never lands on it (its answer page is walked).
POST_ONLY = {
    "accounts/logout/",
    "accounts/mfa/devices/<str:kind>/<int:device_id>/remove/",
    "accounts/tokens/<int:token_id>/revoke/",
    "patients/<int:patient_id>/<slug:kind>/<int:entry_id>/entered-in-error/",
    "patients/<int:patient_id>/screenings/<int:screening_id>/sign/",
    "patients/<int:patient_id>/screenings/<int:screening_id>/entered-in-error/",
    "patients/<int:patient_id>/plans/<int:plan_id>/sign/",
    "patients/<int:patient_id>/plans/<int:plan_id>/dose/",
    "patients/<int:patient_id>/plans/<int:plan_id>/status/",
    "patients/<int:patient_id>/resend/visits/<int:appointment_id>/",
    "patients/<int:patient_id>/resend/questionnaire-link/",
    "patients/<int:patient_id>/intake/items/<int:item_id>/confirm/",
    "patients/<int:patient_id>/intake/items/<int:item_id>/set-aside/",
    "patients/<int:patient_id>/portal-invitation/",
    "portal/visits/<int:appointment_id>/",
    "outcomes/patients/<int:patient_id>/responses/<int:response_id>/entered-in-error/",
    "outcomes/patients/<int:patient_id>/link/",
    "outcomes/instruments/<slug:code>/status/",
    "rems/sessions/<int:session_id>/save/",
    "rems/sessions/<int:session_id>/submit/",
    "calendar/appointments/<int:appointment_id>/move/",
    "calendar/appointments/<int:appointment_id>/status/",
    "sessions/open/<int:appointment_id>/",
    "sessions/<int:session_id>/checklist/",
    "sessions/<int:session_id>/checklist/override/",
    "sessions/<int:session_id>/start/",
    "sessions/<int:session_id>/not-started/",
    "sessions/<int:session_id>/infusion/",
    "sessions/<int:session_id>/injection/",
    "sessions/<int:session_id>/device/",
    "sessions/<int:session_id>/end-dose/",
    "sessions/<int:session_id>/product/",
    "sessions/<int:session_id>/medication/",
    "sessions/<int:session_id>/vitals/",
    "sessions/<int:session_id>/alerts/<int:alert_id>/acknowledge/",
    "sessions/<int:session_id>/dissociation/",
    "sessions/<int:session_id>/side-effects/",
    "sessions/<int:session_id>/adverse-events/",
    "sessions/<int:session_id>/discharge/",
    "sessions/<int:session_id>/integration-notes/",
    "sessions/<int:session_id>/entries/<slug:kind>/<int:entry_id>/error/",
    "billing/sessions/<int:session_id>/charges/confirm/",
    "imports/<int:import_id>/file/",
    "imports/<int:import_id>/items/<int:item_id>/accept/",
    "imports/<int:import_id>/items/<int:item_id>/reject/",
    "triage/<int:request_id>/status/",
    "triage/<int:request_id>/red-flag/",
    "triage/<int:request_id>/convert/",
}


PARAMETER = re.compile(r"<(?:(\w+):)?(\w+)>")


def not_a_page(route: str) -> str | None:
    return next((why for start, why in NOT_PAGES.items() if route.startswith(start)), None)


ROUTES = [route for route, _ in site_routes()]
PAGES = [r for r in ROUTES if r not in POST_ONLY and not not_a_page(r)]
# What the site had when this test was written; a walk over fewer routes has lost its way.
FEWEST_PAGES = 80
# The demo walk opened ~300 addresses (2,100 answers over the roles) when this was written.
FEWEST_ADDRESSES = 200


# ---------------------------------------------------------------------------------------------
# The walk.

# Demo logins: one per role that sees different pages, and nobody signed in. Nobody and the
# patient come first: a one-time link (questionnaire, invitation) is theirs to open.
ROLES = ("anonymous", "patient", "admin", "prescriber", "nurse", "therapist", "frontdesk")
LOGIN = "/accounts/login/"


@dataclass
class Page:
    route: str
    url: str
    role: str
    status: int
    offences: list[str]
    text: str  # what a person reads, so a walk over empty answers cannot pass unseen


@dataclass
class Walk:
    """Every page rendered, per route; every email sent."""

    clients: dict[str, Client]
    chosen_patients: set[int]
    pages: dict[str, list[Page]] = field(default_factory=lambda: defaultdict(list))
    emails: list[tuple[str, list[str]]] = field(default_factory=list)
    queue: list[str] = field(default_factory=list)
    shapes: set[tuple] = field(default_factory=set)
    seen: set[str] = field(default_factory=set)

    def shape(self, path: str) -> tuple | None:
        """Which route and which kind of object a link shows: one of each is enough.

        A slug names a kind (a chart tab, an instrument), so each is walked; ids and tokens
        name one object of a kind. Chosen patients keep their own shape: their whole chart
        is walked.
        """
        try:
            match = resolve(path)
        except Resolver404:
            return None
        converters = {name: kind for kind, name in PARAMETER.findall(match.route)}
        values = tuple(
            (name, value)
            if converters[name] == "slug"
            or (name == "patient_id" and value in self.chosen_patients)
            else (name, "*")
            for name, value in sorted(match.kwargs.items())
        )
        return (match.route, values)

    def add(self, url: str, *, chosen: bool = False) -> None:
        """Queue a link to walk: a chosen one always, a found one if it shows something new."""
        parts = urlsplit(url)
        if parts.netloc not in ("", "testserver", urlsplit(settings.SITE_URL).netloc):
            return
        shape = self.shape(parts.path)
        if shape is None or shape[0] not in PAGES or parts.path in self.seen:
            return
        if shape in self.shapes and not chosen:
            return
        self.shapes.add(shape)
        self.seen.add(parts.path)
        self.queue.append(parts.path + (f"?{parts.query}" if parts.query else ""))

    def run(self) -> None:
        while self.queue:
            path = self.queue.pop(0)
            for role, client in self.clients.items():
                self.visit(role, client, path)

    def visit(self, role: str, client: Client, path: str) -> None:
        """Open a page as a person does (following redirects) and read what it shows."""
        response = client.get(path, follow=True)
        status = response.status_code
        if response.redirect_chain and response.request["PATH_INFO"].startswith(LOGIN):
            status = 302  # sent to sign in: nothing shown
        text, found = self.read(response) if status != 302 else ("", [])
        route = resolve(urlsplit(path).path).route
        self.pages[route].append(Page(route, path, role, status, found, text))

    def read(self, response) -> tuple[str, list[str]]:
        """What a person reads in an answer and the internal words in it; the links it offers
        join the walk."""
        kind = response.get("Content-Type", "")
        content = b"".join(response) if response.streaming else response.content
        if kind.startswith("application/pdf"):
            text = read_pdf(content)
            return text, offences(text)
        if kind.startswith("text/calendar"):
            text = read_calendar(content.decode())
            return text, offences(text)
        if not kind.startswith("text/html"):
            return "", []
        text, code, data, links = read_html(content.decode())
        for link in links + ADDRESS.findall(text):
            self.add(link)
        found = offences(text) + offences(code, markers=NOWHERE)
        return text, found + offences(data, markers=IN_CHART_DATA)

    def read_outbox(self) -> None:
        for message in mail.outbox:
            self.emails.append((message.subject, offences(f"{message.subject}\n{message.body}")))
            for link in ADDRESS.findall(message.body):
                self.add(link, chosen=True)
        mail.outbox.clear()


def read_calendar(content: str) -> str:
    """What a calendar app shows of a feed: its events' titles, places and descriptions."""
    shown = ("SUMMARY", "DESCRIPTION", "LOCATION", "X-WR-CALNAME")
    lines = content.replace("\r\n ", "").splitlines()
    return "\n".join(line.split(":", 1)[1] for line in lines if line.split(":")[0] in shown)


class FormFields(HTMLParser):
    """The named fields of a page's forms with their values (hidden ones included)."""

    def __init__(self):
        super().__init__()
        self.values: dict[str, str] = {}

    def handle_starttag(self, tag, attrs):
        fields = dict(attrs)
        if tag == "input" and fields.get("name") and fields.get("type") != "submit":
            self.values.setdefault(fields["name"], fields.get("value") or "")


def submit(client: Client, path: str, **answers) -> object:
    """Fill in the form a page shows, as a person would, and send it."""
    page = FormFields()
    page.feed(client.get(path).content.decode())
    return client.post(path, page.values | answers)


# ---------------------------------------------------------------------------------------------
# The clinic, in the states worth seeing.


def user(username: str) -> User:
    return User.objects.get(username=username)


def running_session() -> TreatmentSession:
    """A session dosing now, its blood pressure high (demo sessions are all discharged)."""
    chair = Chair.objects.filter(room__kind="infusion_suite").last()
    session = make_session(
        patient=make_patient("Rosa", "Lindqvist"),
        prescriber=user("prescriber"),
        nurse=user("nurse"),
        chair=chair,
    )
    vitals = {"systolic_mmhg": 186, "diastolic_mmhg": 112, "heart_rate_bpm": 88, "spo2_pct": 97}
    signed_in_as(user("nurse")).post(f"/sessions/{session.pk}/vitals/", vitals)
    return session


def received_bundle() -> None:
    """Records sent by another EHR, waiting for review (the demo receives none)."""
    answer = post(token_client(user("prescriber")), bundle(PATIENT, CONDITION, MEDICATION))
    assert answer.status_code == 201, answer.content


def signed_consent(walk: Walk) -> None:
    """The portal patient signs a consent on the portal (the demo's signatures are on paper)."""
    client = walk.clients["patient"]
    *_, links = read_html(client.get("/portal/consents/").content.decode())
    document = next(link for link in links if re.fullmatch(r"/portal/consents/[\w-]+/", link))
    patient = Patient.objects.get(user__username="patient")
    answer = submit(client, document, typed_name=f"{patient.given_name} {patient.family_name}")
    assert answer.status_code == 302, answer.content


def calendar_feed(walk: Walk) -> None:
    """A nurse makes her calendar feed link (shown once) and the walk follows it."""
    answer = walk.clients["nurse"].post("/calendar/feed/", {"action": "create"})
    (link,) = re.findall(r"https?://[^\s<\"]+\.ics", answer.content.decode())
    walk.add(link, chosen=True)


def chosen_patients() -> list[Patient]:
    """The one with the most safety alerts, one with an adverse event (esketamine), one with
    an IM plan, and the portal patient (listed last)."""
    demo = Patient.objects.filter(mrn__startswith="DEMO")
    busiest = (
        demo.annotate(alert_count=Count("treatment_sessions__alerts"))
        .order_by("-alert_count")
        .first()
    )
    harmed = demo.filter(treatment_sessions__adverse_events__isnull=False).first()
    injected = demo.filter(plans__route="im").first()
    return [busiest, harmed, injected, demo.get(user__username="patient")]


def chosen_sessions(patients: list[Patient], running: TreatmentSession) -> list[TreatmentSession]:
    """The running session, the discharged one with the most alerts, an esketamine one."""
    discharged = TreatmentSession.objects.filter(
        patient__in=patients, status=SessionStatus.DISCHARGED
    ).annotate(alert_count=Count("alerts"))
    return [
        running,
        *discharged.order_by("-alert_count")[:1],
        *discharged.filter(route="esketamine")[:1],
    ]


def chosen_pages(patients: list[Patient], running: TreatmentSession) -> list[str]:
    """Pages of the chosen states, and pages no link leads to (a form's answer, a draft)."""
    sessions = chosen_sessions(patients, running)
    busiest, portal = patients[0], patients[-1]
    draft = Screening.objects.filter(status="draft").first()
    charged = SessionCharges.objects.select_related("session").first().session.patient_id
    today = timezone.localdate()
    quarter_ago = today - dt.timedelta(days=90)
    pages = [f"/patients/{p.pk}/" for p in [*patients, running.patient]]
    pages += [f"/sessions/{s.pk}/" for s in sessions]
    pages += [
        f"/inventory/sessions/{running.pk}/{form}/" for form in ("draw", "administer", "waste")
    ]
    for status in ("completed", "cancelled", "confirmed"):  # a history of status changes
        visit = Appointment.objects.filter(status=status).order_by("pk").first()
        pages += [f"/calendar/appointments/{visit.pk}/"] if visit else []
    pages += [
        f"/patients/{draft.patient_id}/screenings/{draft.pk}/edit/",
        f"/patients/{busiest.pk}/plans/new/",
        f"/portal/questionnaires/done/{portal.outcome_responses.first().pk}/",
        f"/calendar/staff/{user('nurse').pk}/",
        f"/billing/patients/{charged}/superbill/?from={quarter_ago}&to={today}",
    ]
    return [
        *pages,
        "/",
        "/portal/",
        "/request/",
        "/request/received/",
        "/learn/",
        LOGIN,
        "/accounts/password/done/",
        "/accounts/mfa/verify/",
        "/accounts/mfa/recovery-codes/",
    ]


def signed_in_as(person: User | None) -> Client:
    client = Client()
    if person is not None:
        client.force_login(person)
    return client


def send_the_clinics_emails(patients: list[Patient]) -> None:
    """Reminders due, a re-sent questionnaire link and reminder, and a portal invitation."""
    call_command("send_reminders", stdout=io.StringIO())
    desk = signed_in_as(user("frontdesk"))
    for patient in patients:
        desk.post(f"/patients/{patient.pk}/resend/questionnaire-link/")
        upcoming = patient.appointments.filter(status__in=["scheduled", "confirmed"]).first()
        if upcoming is not None:
            desk.post(f"/patients/{patient.pk}/resend/visits/{upcoming.pk}/")
    newcomer = Patient.objects.filter(mrn__startswith="DEMO", user__isnull=True).exclude(email="")
    desk.post(f"/patients/{newcomer.first().pk}/portal-invitation/")


def walk_the_clinic() -> Walk:
    """The demo clinic with a running session, a received bundle, a signed portal consent and
    the clinic's emails; then every page the chosen states, the emails and the links reach."""
    call_command("demo", "--quiet-logins", "--patients", "40", stdout=io.StringIO())
    running = running_session()
    received_bundle()
    patients = chosen_patients()
    clients = {role: signed_in_as(User.objects.filter(username=role).first()) for role in ROLES}
    walk = Walk(clients=clients, chosen_patients={p.pk for p in [*patients, running.patient]})
    signed_consent(walk)
    calendar_feed(walk)
    mail.outbox.clear()
    send_the_clinics_emails(patients)
    walk.read_outbox()
    for page in chosen_pages(patients, running):
        walk.add(page, chosen=True)
    walk.run()
    walk.read_outbox()
    walk.run()
    return walk


@pytest.fixture(scope="module")
def walk(django_db_setup, django_db_blocker, tmp_path_factory) -> Walk:
    """The walk, done once for the module in a transaction rolled back at its end."""
    checkpoints = tmp_path_factory.mktemp("audit") / "checkpoints.log"
    with (
        django_db_blocker.unblock(),
        override_settings(AUDIT_CHECKPOINT_PATH=checkpoints),
        transaction.atomic(),
    ):
        policy.forget()
        walked = walk_the_clinic()
        transaction.set_rollback(True)
    policy.forget()
    return walked


# ---------------------------------------------------------------------------------------------
# The tests.


def test_the_walk_covers_every_route_of_the_site():
    """Every route is walked, or left out on purpose with its reason (nothing silently)."""
    assert len(PAGES) >= FEWEST_PAGES, f"only {len(PAGES)} page routes found"
    unaccounted = set(ROUTES) - set(PAGES) - POST_ONLY - {r for r in ROUTES if not_a_page(r)}
    assert not unaccounted
    gone = (POST_ONLY | set(STILL_SPEAKING_CODE)) - set(ROUTES)
    assert not gone, f"routes listed here that no longer exist: {sorted(gone)}"


def test_the_walk_opens_hundreds_of_addresses_as_every_role(walk):
    answers = [page for pages in walk.pages.values() for page in pages]
    assert len({page.url for page in answers}) >= FEWEST_ADDRESSES
    assert {page.role for page in answers if page.status == 200} == set(ROLES)


@pytest.mark.django_db
def test_post_only_routes_answer_a_get_with_405():
    """A route left out as POST-only really has no page: GET is refused."""
    client = signed_in_as(User.objects.create(username="owner", role="clinic_admin"))
    paths = {r: "/" + PARAMETER.sub(lambda m: "1" if m[1] == "int" else "x", r) for r in POST_ONLY}
    answers = {route: client.get(path).status_code for route, path in sorted(paths.items())}
    pages = [
        f"{route}: GET answered {status}" for route, status in answers.items() if status != 405
    ]
    assert not pages, "\n".join(pages)


def report(pages: list[Page]) -> str:
    """Each offence once, with the first page that shows it and the roles who see it."""
    seen: dict[str, tuple[str, list[str]]] = {}
    for page in pages:
        for offence in page.offences:
            seen.setdefault(offence, (page.url, []))[1].append(page.role)
    return "".join(
        f"\n  {url} ({', '.join(dict.fromkeys(roles))}): {offence}"
        for offence, (url, roles) in seen.items()
    )


# Pages that still show internal words, each with what is left and whose file it is in.
# Strict: a page fixed here must leave this list.
STILL_SPEAKING_CODE: dict[str, str] = {}


def walked(route: str):
    if route in STILL_SPEAKING_CODE:
        return pytest.param(
            route, marks=pytest.mark.xfail(strict=True, reason=STILL_SPEAKING_CODE[route])
        )
    return route


@pytest.mark.parametrize("route", [walked(route) for route in PAGES])
def test_every_page_speaks_the_clinics_language(walk, route):
    pages = walk.pages.get(route, [])
    shown = [p for p in pages if p.status == 200]
    assert shown, (
        f"{route}: no page shown to any role; answers {[(p.role, p.url, p.status) for p in pages]}"
    )
    assert any(p.text for p in shown), f"{route}: nothing to read in {[p.url for p in shown]}"
    errors = [p for p in pages if p.status >= 500]
    assert not errors, f"{route}: server errors {[(p.role, p.url, p.status) for p in errors]}"
    # Refusals and errors are pages too: a 403, 404 or 422 is read as much as a 200.
    assert not any(p.offences for p in pages), "internal words on the page:" + report(pages)


def test_every_email_speaks_the_clinics_language(walk):
    assert len(walk.emails) >= 3, "reminders, a questionnaire link and an invitation were sent"
    found = [f"email {subject!r}: {o}" for subject, found in walk.emails for o in found]
    assert not found, "internal words in emails:\n  " + "\n  ".join(dict.fromkeys(found))
