"""ketaclinic settings: one file, every value from the environment with a safe default.

Development needs nothing set: SQLite in ``var/``, a generated secret key in an ignored
file, DEBUG off unless ``DEBUG=1``. Production sets ``SECRET_KEY``, ``ALLOWED_HOSTS`` and
``DATABASE_URL`` (PostgreSQL) and passes ``manage.py check --deploy``.
"""

from __future__ import annotations

import os
import secrets
from datetime import timedelta
from pathlib import Path

import dj_database_url
from csp.constants import NONCE as CSP_NONCE

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(os.environ.get("KETACLINIC_VAR_DIR", BASE_DIR / "var"))
VAR_DIR.mkdir(parents=True, exist_ok=True)


def env_bool(name: str, default: bool = False) -> bool:
    value = os.environ.get(name)
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def env_list(name: str, default: str = "") -> list[str]:
    return [item.strip() for item in os.environ.get(name, default).split(",") if item.strip()]


def development_secret_key() -> str:
    """A per-checkout key kept in an ignored file, so sessions survive restarts."""
    path = BASE_DIR / ".secret_key"
    if not path.exists():
        path.write_text(secrets.token_urlsafe(50))
        path.chmod(0o600)
    return path.read_text().strip()


DEBUG = env_bool("DEBUG")
SECRET_KEY = os.environ.get("SECRET_KEY") or development_secret_key()
# Keys the audit trail's hash chain. Set it separately in production so rotating
# SECRET_KEY does not make the existing trail unverifiable.
AUDIT_CHAIN_KEY = os.environ.get("AUDIT_CHAIN_KEY") or SECRET_KEY
# Signed checkpoints of the audit chain's head, kept outside the database so cutting the
# newest rows or emptying the table is found (ketaclinic/audit/checkpoints.py). Ship the
# file (AUDIT_CHECKPOINT_PATH, below DATABASES), or the ketaclinic.audit.checkpoint log, to
# another host.
AUDIT_CHECKPOINT_EVERY = int(os.environ.get("AUDIT_CHECKPOINT_EVERY", 100))
AUDIT_CHECKPOINT_SECONDS = int(os.environ.get("AUDIT_CHECKPOINT_SECONDS", 60))
AUDIT_CHECKPOINT_LOG = env_bool("AUDIT_CHECKPOINT_LOG", default=True)
ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", "127.0.0.1,localhost,[::1],testserver")
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS")

# Behind TLS in production: cookies only over HTTPS, HSTS, redirect to HTTPS.
SECURE_MODE = env_bool("SECURE_MODE", default=not DEBUG and "SECRET_KEY" in os.environ)
SESSION_COOKIE_SECURE = SECURE_MODE
CSRF_COOKIE_SECURE = SECURE_MODE
SECURE_SSL_REDIRECT = SECURE_MODE and env_bool("SECURE_SSL_REDIRECT", default=True)
SECURE_HSTS_SECONDS = int(os.environ.get("SECURE_HSTS_SECONDS", 31536000 if SECURE_MODE else 0))
SECURE_HSTS_INCLUDE_SUBDOMAINS = SECURE_MODE
SECURE_HSTS_PRELOAD = SECURE_MODE
# Behind a reverse proxy (BEHIND_PROXY=1) with PROXY_COUNT proxies in front of the app, the
# client's address is the PROXY_COUNT-th X-Forwarded-For entry from the right; entries left of
# it are client-supplied and ignored (ketaclinic/web/client.py). Lockout and audit use it.
BEHIND_PROXY = env_bool("BEHIND_PROXY")
PROXY_COUNT = int(os.environ.get("PROXY_COUNT") or os.environ.get("AXES_PROXY_COUNT") or 1)
if BEHIND_PROXY:
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
# Content-Security-Policy (django-csp): scripts only from our own origin or carrying this
# response's nonce; no inline handlers, no eval (htmx's allowEval is off in base.html), no
# framing, no plugins. Styles allow 'unsafe-inline' because Plotly and htmx set style
# attributes and Plotly injects <style> elements; styles cannot run code. Images allow data:
# for Plotly's mode-bar icons and the favicon.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'", CSP_NONCE],
        "style-src": ["'self'", "'unsafe-inline'"],
        "img-src": ["'self'", "data:"],
        "font-src": ["'self'"],
        "connect-src": ["'self'"],
        "object-src": ["'none'"],
        "base-uri": ["'self'"],
        "form-action": ["'self'"],
        "frame-ancestors": ["'none'"],
    }
}
# Cache-Control: no-store on every response except these and STATIC_URL (web/headers.py).
CACHEABLE_PATH_PREFIXES = ("/assets/",)

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django_htmx",
    "axes",
    "django_otp",
    "django_otp.plugins.otp_totp",
    "django_otp.plugins.otp_static",
    "django_otp_webauthn",
    "csp",
    "ninja",
    "ketaclinic.web",
    "ketaclinic.audit",
    "ketaclinic.accounts",
    "ketaclinic.jobs",  # early: later apps register their periodic jobs with it
    "ketaclinic.patients",
    "ketaclinic.intake",
    "ketaclinic.screening",
    "ketaclinic.protocols",
    "ketaclinic.plans",
    "ketaclinic.scheduling",
    "ketaclinic.charting",
    "ketaclinic.inventory",
    "ketaclinic.demo",
    "ketaclinic.outcomes",
    "ketaclinic.billing",
    "ketaclinic.fhir",
    "ketaclinic.analytics",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "csp.middleware.CSPMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "ketaclinic.web.headers.NoStoreMiddleware",
    "ketaclinic.web.json_errors.ApiErrorsAreJson",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django_otp.middleware.OTPMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "ketaclinic.web.inputs.RefuseUnstorableInput",
    "ketaclinic.accounts.middleware.SessionTimeoutMiddleware",
    "ketaclinic.accounts.mfa_middleware.SecondFactorMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "ketaclinic.urls"
WSGI_APPLICATION = "ketaclinic.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "ketaclinic" / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "ketaclinic.accounts.context_processors.permissions",
                "ketaclinic.web.urgent.banner",
            ],
        },
    },
]


def database_config() -> dict:
    url = os.environ.get("DATABASE_URL")
    if url:
        config = dj_database_url.parse(url, conn_max_age=int(os.environ.get("CONN_MAX_AGE", 60)))
        config["CONN_HEALTH_CHECKS"] = True
        return config
    return {
        "ENGINE": "django.db.backends.sqlite3",
        "NAME": os.environ.get("SQLITE_PATH", str(VAR_DIR / "ketaclinic.sqlite3")),
        "OPTIONS": {
            # IMMEDIATE takes the write lock at BEGIN, so concurrent writers queue on
            # busy_timeout instead of failing mid-transaction with "database is locked".
            "transaction_mode": "IMMEDIATE",
            "timeout": 20,
            "init_command": (
                "PRAGMA journal_mode=WAL;PRAGMA synchronous=FULL;PRAGMA foreign_keys=ON;"
            ),
        },
        "TEST": {"NAME": os.environ.get("SQLITE_TEST_PATH") or None},
    }


DATABASES = {"default": database_config()}
# One checkpoint file per database: a demo or second SQLite file must not share production's.
AUDIT_CHECKPOINT_PATH = Path(
    os.environ.get("AUDIT_CHECKPOINT_PATH")
    or VAR_DIR / f"audit-checkpoints-{Path(str(DATABASES['default']['NAME'])).stem}.log"
)
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_USER_MODEL = "accounts.User"
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.Argon2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
]
# NIST SP 800-63B: length and a blocklist, no composition rules.
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {
        "NAME": "django.contrib.auth.password_validation.MinimumLengthValidator",
        "OPTIONS": {"min_length": 12},
    },
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "accounts:login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "accounts:login"

# HIPAA automatic logoff (45 CFR 164.312(a)(2)(iii)): idle and absolute limits.
SESSION_IDLE_TIMEOUT = timedelta(minutes=int(os.environ.get("SESSION_IDLE_MINUTES", 15)))
SESSION_ABSOLUTE_TIMEOUT = timedelta(hours=int(os.environ.get("SESSION_ABSOLUTE_HOURS", 12)))
SESSION_COOKIE_AGE = int(SESSION_ABSOLUTE_TIMEOUT.total_seconds())
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
SESSION_EXPIRE_AT_BROWSER_CLOSE = True

# Login throttling: lock a username+address pair after repeated failures, for a cool-off.
AXES_FAILURE_LIMIT = int(os.environ.get("AXES_FAILURE_LIMIT", 5))
AXES_COOLOFF_TIME = timedelta(minutes=int(os.environ.get("AXES_COOLOFF_MINUTES", 15)))
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_TEMPLATE = "accounts/locked_out.html"
AXES_VERBOSE = False
# The client's address (not a proxy's): see BEHIND_PROXY above.
AXES_CLIENT_IP_CALLABLE = "ketaclinic.web.client.client_address"

LANGUAGE_CODE = "en-us"
USE_TZ = True
# Stored in UTC (USE_TZ); shown, and "today" reckoned, in the clinic's own zone.
TIME_ZONE = os.environ.get("CLINIC_TIME_ZONE", "America/New_York")
CLINIC_NAME = os.environ.get("CLINIC_NAME", "ketaclinic demo clinic")
# The practice as a superbill names it (billing); empty until the clinic sets them.
PRACTICE_ADDRESS = os.environ.get("PRACTICE_ADDRESS", "")
PRACTICE_NPI = os.environ.get("PRACTICE_NPI", "")
PRACTICE_TAX_ID = os.environ.get("PRACTICE_TAX_ID", "")
USE_I18N = False

STATIC_URL = "static/"
STATIC_ROOT = Path(os.environ.get("STATIC_ROOT", VAR_DIR / "static"))
STATIC_ROOT.mkdir(parents=True, exist_ok=True)
STATICFILES_DIRS = [BASE_DIR / "ketaclinic" / "static"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": (
            "whitenoise.storage.CompressedManifestStaticFilesStorage"
            if not DEBUG and env_bool("STATIC_MANIFEST", default=SECURE_MODE)
            else "django.contrib.staticfiles.storage.StaticFilesStorage"
        )
    },
}
WHITENOISE_USE_FINDERS = not SECURE_MODE
# Collected files carry a content hash in their name (manifest storage, compressed with
# Brotli and gzip by collectstatic): whitenoise serves those with a ten-year "immutable"
# max-age; files without a hash (none are linked by pages) get WHITENOISE_MAX_AGE.
WHITENOISE_MAX_AGE = int(os.environ.get("WHITENOISE_MAX_AGE", "60" if not DEBUG else "0"))

# Computed results worth keeping between requests (the plan page's population bands).
# Default: each process's own memory. With several workers or servers, point CACHE_URL at a
# shared cache: redis://host:6379/0 (pip install redis) or file:///var/cache/ketaclinic.
CACHE_URL = os.environ.get("CACHE_URL", "")
if CACHE_URL.startswith(("redis://", "rediss://")):
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": CACHE_URL,
        }
    }
elif CACHE_URL.startswith("file://"):
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.filebased.FileBasedCache",
            "LOCATION": CACHE_URL.removeprefix("file://"),
        }
    }
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}

EMAIL_BACKEND = os.environ.get("EMAIL_BACKEND", "django.core.mail.backends.console.EmailBackend")
DEFAULT_FROM_EMAIL = os.environ.get("DEFAULT_FROM_EMAIL", "clinic@ketaclinic.invalid")
SMS_BACKEND = os.environ.get("SMS_BACKEND", "ketaclinic.scheduling.sms.LoggingSmsBackend")
# Crisis resources shown to a patient at once when an answer flags suicidal ideation.
# Education pages (issue #12): a folder of Markdown pages that add to or replace the shipped
# ones by file name (ketaclinic/intake/learn/); empty for the shipped pages only.
LEARN_PAGES_DIR = os.environ.get("LEARN_PAGES_DIR", "")
CRISIS_LINE = os.environ.get("CRISIS_LINE", "988")
CRISIS_LINE_NAME = os.environ.get("CRISIS_LINE_NAME", "Suicide & Crisis Lifeline, US")
EMERGENCY_NUMBER = os.environ.get("EMERGENCY_NUMBER", "911")
# Where patients' links (reminders, confirmations) point.
SITE_URL = os.environ.get("SITE_URL", "http://127.0.0.1:8000")

# Second factor (accounts/mfa.py). When on, staff (and superusers) must verify an
# authenticator code or passkey after their password before any page or session API call.
# Read on each request, so tests can override it. Off in the `make run` demo.
MFA_REQUIRED = env_bool("MFA_REQUIRED", default=SECURE_MODE)
OTP_TOTP_ISSUER = CLINIC_NAME
# The admin never shows an authenticator's secret key or the recovery codes.
OTP_ADMIN_HIDE_SENSITIVE_DATA = True
# accounts/mfa.py locks a user after repeated failures; django-otp's own per-device
# back-off (which refuses even a right code for a few seconds) is not needed on top.
OTP_TOTP_THROTTLE_FACTOR = 0
OTP_STATIC_THROTTLE_FACTOR = 0
# Passkeys: a second factor only (the password, throttled by axes, stays the first).
OTP_WEBAUTHN_ALLOW_PASSWORDLESS_LOGIN = False
OTP_WEBAUTHN_RP_NAME = CLINIC_NAME
OTP_WEBAUTHN_RP_ID_CALLABLE = "ketaclinic.accounts.passkeys.relying_party_id"
OTP_WEBAUTHN_HELPER_CLASS = "ketaclinic.accounts.passkeys.ClinicWebAuthnHelper"
OTP_WEBAUTHN_ALLOWED_ORIGINS = env_list(
    "WEBAUTHN_ORIGINS",
    SITE_URL.rstrip("/") if SITE_URL.startswith("https://") else "http://localhost:8000",
)

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": os.environ.get("LOG_LEVEL", "WARNING")},
    # Each signed audit checkpoint, one line: ship it off this host (AUDIT_CHECKPOINT_LOG).
    "loggers": {"ketaclinic.audit.checkpoint": {"level": "INFO"}},
}
