"""Confide settings: one file, configured from the environment (12-factor).

Every variable is listed in the README. The defaults are the embedded setup that `make run`
serves: SQLite in WAL mode, the in-memory channel layer, tasks in the database.
"""

from __future__ import annotations

import os
import secrets
from pathlib import Path
from typing import Any

import dj_database_url
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent

_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off", ""}


def env_str(name: str, default: str | None = None) -> str:
    """A string from NAME, or from the file named by NAME_FILE (for secrets), or the default."""
    file_name = os.environ.get(f"{name}_FILE")
    if file_name:
        try:
            return Path(file_name).read_text(encoding="utf-8").strip()
        except OSError as exc:
            raise ImproperlyConfigured(f"{name}_FILE={file_name!r} cannot be read: {exc}") from exc
    value = os.environ.get(name)
    if value is not None:
        return value
    if default is None:
        raise ImproperlyConfigured(f"{name} must be set")
    return default


def env_bool(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    if value is None:
        return default
    if value.strip().lower() in _TRUE:
        return True
    if value.strip().lower() in _FALSE:
        return False
    raise ImproperlyConfigured(f"{name}={value!r} is not a boolean (use 1/0, true/false)")


def env_int(name: str, default: int, *, minimum: int = 0) -> int:
    value = os.environ.get(name)
    if value is None or value.strip() == "":
        return default
    try:
        number = int(value)
    except ValueError as exc:
        raise ImproperlyConfigured(f"{name}={value!r} is not a whole number") from exc
    if number < minimum:
        raise ImproperlyConfigured(f"{name}={number} is below the minimum of {minimum}")
    return number


def env_list(name: str, default: str) -> list[str]:
    return [item.strip() for item in env_str(name, default).split(",") if item.strip()]


VAR_DIR = Path(env_str("CONFIDE_VAR_DIR", str(BASE_DIR / "var")))
DEBUG = env_bool("CONFIDE_DEBUG", False)
HTTPS = env_bool("CONFIDE_HTTPS", False)


def _secret_key() -> str:
    """SECRET_KEY from the environment, else a key generated once into var/ (embedded setup)."""
    key = env_str("SECRET_KEY", "")
    if key:
        return key
    key_file = VAR_DIR / "secret_key"
    if not key_file.exists():
        VAR_DIR.mkdir(parents=True, exist_ok=True)
        # O_EXCL: two processes starting at once must not both write a key.
        try:
            fd = os.open(key_file, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:
            pass
        else:
            with os.fdopen(fd, "w", encoding="utf-8") as handle:
                handle.write(secrets.token_urlsafe(64))
    return key_file.read_text(encoding="utf-8").strip()


SECRET_KEY = _secret_key()
ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", "127.0.0.1,localhost,testserver")
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", "")
# Pages on these origins may open room sockets with a session cookie, besides the site itself
# (an Origin whose host and port equal the request's Host, with that host in ALLOWED_HOSTS).
WEBSOCKET_ALLOWED_ORIGINS = env_list("WEBSOCKET_ALLOWED_ORIGINS", "")
SITE_URL = env_str("SITE_URL", "http://127.0.0.1:8000").rstrip("/")

INSTALLED_APPS = [
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.admin",
    "channels",
    "django_otp",
    "django_otp.plugins.otp_totp",
    "django_otp.plugins.otp_static",
    "axes",
    "csp",
    "django_tasks",
    "django_tasks_db",
    "confide.accounts",
    "confide.care",
    "confide.audit",
    "confide.safety",
    "confide.rooms",
    "confide.live",
    "confide.mail",
    "confide.scheduling",
    "confide.support",
    "confide.web",
    "confide.api",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "csp.middleware.CSPMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django_otp.middleware.OTPMiddleware",
    "confide.accounts.middleware.SessionLimitsMiddleware",
    "confide.accounts.middleware.MFARequiredMiddleware",
    "confide.accounts.middleware.ConsentRequiredMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "confide.web.middleware.DomainErrorMiddleware",
    "axes.middleware.AxesMiddleware",
]

# API requests with a personal access token and no session cookie (confide/api/handler.py) run
# only these: the rest of MIDDLEWARE serves browser sessions (cookies, CSRF, messages, the
# second-factor and consent redirects of pages, the login lock-out, the pages' CSP), and the
# API's token check refuses an inactive account or a client without current consent itself.
API_TOKEN_MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "django.middleware.common.CommonMiddleware",
    "confide.accounts.middleware.TokenRequestMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "confide.urls"
ASGI_APPLICATION = "confide.asgi.application"
WSGI_APPLICATION = None

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "csp.context_processors.nonce",
                "confide.web.context_processors.confide",
            ],
        },
    },
]

# --- Database: SQLite (WAL) by default, anything dj-database-url reads otherwise ---------------
DATABASE_URL = env_str("DATABASE_URL", "")
if DATABASE_URL:
    DATABASES: dict[str, dict[str, Any]] = {
        "default": dict(
            dj_database_url.parse(DATABASE_URL, conn_max_age=60, conn_health_checks=True)
        )
    }
else:
    DATABASES = {
        "default": {
            "ENGINE": "django.db.backends.sqlite3",
            "NAME": VAR_DIR / "confide.sqlite3",
            "OPTIONS": {
                # WAL lets readers proceed while one writer commits; IMMEDIATE takes the write
                # lock at BEGIN so two writers queue instead of failing with "database is locked".
                "init_command": (
                    "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA busy_timeout=5000;"
                ),
                "transaction_mode": "IMMEDIATE",
            },
            # Request threads are long-lived (confide/threads.py): keep their connections.
            "CONN_MAX_AGE": 600,
            "CONN_HEALTH_CHECKS": True,
            # Tests use a WAL file too, so a server thread in a browser test shares it.
            "TEST": {"NAME": str(VAR_DIR / "test-confide.sqlite3")},
        }
    }
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
# How many long-lived threads run Django's synchronous request code (see confide/threads.py).
ASGI_SYNC_THREADS = env_int("ASGI_SYNC_THREADS", 4, minimum=1)
# How long (microseconds) a thread waits for another to hand over the interpreter lock, and the
# garbage collector's first-generation threshold, in a serving process (confide/threads.py).
ASGI_SWITCH_INTERVAL_US = env_int("ASGI_SWITCH_INTERVAL_US", 200, minimum=50)
GC_GEN0_THRESHOLD = env_int("GC_GEN0_THRESHOLD", 10_000, minimum=100)

# --- Channel layer: in-memory by default, Redis pub/sub when REDIS_URL is set ---
REDIS_URL = env_str("REDIS_URL", "")
if REDIS_URL:
    CHANNEL_LAYERS = {
        "default": {
            "BACKEND": "channels_redis.pubsub.RedisPubSubChannelLayer",
            "CONFIG": {"hosts": [REDIS_URL], "prefix": env_str("REDIS_PREFIX", "confide")},
        }
    }
else:
    CHANNEL_LAYERS = {"default": {"BACKEND": "confide.live.layers.SweepingInMemoryChannelLayer"}}

# --- Live room stream limits (docs/protocol.md) ---
LIVE_MAX_CONNECTIONS_PER_USER = env_int("LIVE_MAX_CONNECTIONS_PER_USER", 20, minimum=1)
LIVE_MESSAGES_PER_MINUTE = env_int("LIVE_MESSAGES_PER_MINUTE", 60, minimum=1)

# --- Calls: STUN/TURN (docs/deployment.md). Without TURN, calls use host candidates only, which
# is enough on one machine (`make run`). TURN_SECRET is coturn's static-auth-secret.
STUN_URLS = env_list("STUN_URLS", "")
TURN_URLS = env_list("TURN_URLS", "")
TURN_SECRET = env_str("TURN_SECRET", "")
# A call whose media has not connected after this long points its people to the live chat.
CALL_CONNECT_SECONDS = env_int("CALL_CONNECT_SECONDS", 25, minimum=3)

# --- Tasks: rows in the same database, enqueued inside the writer's transaction -------------------
TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}

# --- Accounts and sessions ---------------------------------------------------------------------
AUTH_USER_MODEL = "accounts.User"
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.Argon2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {
        "NAME": "django.contrib.auth.password_validation.MinimumLengthValidator",
        "OPTIONS": {"min_length": 10},
    },
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"

# Automatic logoff after this many idle minutes, and a hard limit on a session's whole life.
IDLE_TIMEOUT_MINUTES = env_int("IDLE_TIMEOUT_MINUTES", 15, minimum=1)
SESSION_MAX_HOURS = env_int("SESSION_MAX_HOURS", 12, minimum=1)
SESSION_COOKIE_AGE = SESSION_MAX_HOURS * 3600
SESSION_EXPIRE_AT_BROWSER_CLOSE = True
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
SESSION_COOKIE_NAME = "confide_session"
CSRF_COOKIE_HTTPONLY = True

# Field encryption (AES-GCM) of message bodies, attachments and notes. Keys live outside the
# database: "id:base64key" pairs, comma-separated, the first one encrypts, all of them decrypt.
# ENCRYPTION_KEYS_FILE names a file holding the same text. Without either, a key is generated
# once into var/encryption_keys (embedded setup).
ENCRYPTION_KEYS = env_str("ENCRYPTION_KEYS", "")

# Email about new messages waits this long (a person reading in the app needs none) and batches.
NOTIFY_DELAY_MINUTES = env_int("NOTIFY_DELAY_MINUTES", 10, minimum=0)

INVITATION_TTL_DAYS = env_int("INVITATION_TTL_DAYS", 7, minimum=1)
PERSONAL_TOKEN_TTL_DAYS = env_int("PERSONAL_TOKEN_TTL_DAYS", 90, minimum=1)
OTP_TOTP_ISSUER = "Confide"

# django-axes: lock the (account, address) pair after repeated failures.
AXES_FAILURE_LIMIT = env_int("AXES_FAILURE_LIMIT", 5, minimum=1)
AXES_COOLOFF_TIME = env_int("AXES_COOLOFF_MINUTES", 15, minimum=1) / 60
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_USERNAME_FORM_FIELD = "username"
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_TEMPLATE = "accounts/locked_out.html"
AXES_VERBOSE = False
AXES_ENABLE_ACCESS_FAILURE_LOG = False
AXES_IPWARE_PROXY_COUNT = env_int("TRUSTED_PROXY_COUNT", 0)

# --- HTTPS and headers (production runs behind TLS with CONFIDE_HTTPS=1) ---
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
if HTTPS:
    SECURE_SSL_REDIRECT = True
    SECURE_REDIRECT_EXEMPT = [r"^healthz$"]
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SECURE_HSTS_SECONDS = env_int("HSTS_SECONDS", 31536000)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = True
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True

CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'"],
        "img-src": ["'self'", "data:"],
        "media-src": ["'self'", "blob:"],
        "connect-src": ["'self'"],
        "font-src": ["'self'"],
        "object-src": ["'none'"],
        "base-uri": ["'none'"],
        "form-action": ["'self'"],
        "frame-ancestors": ["'none'"],
    }
}
PERMISSIONS_POLICY = "camera=(self), microphone=(self), geolocation=(), payment=(), usb=()"

# --- Email ----------------------------------------------------------------------------------------
EMAIL_HOST = env_str("EMAIL_HOST", "")
if EMAIL_HOST:
    EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    EMAIL_PORT = env_int("EMAIL_PORT", 587)
    EMAIL_HOST_USER = env_str("EMAIL_HOST_USER", "")
    EMAIL_HOST_PASSWORD = env_str("EMAIL_HOST_PASSWORD", "")
    EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS", True)
    EMAIL_TIMEOUT = 20
else:
    # Embedded default: outgoing mail is written to the console of `make run`.
    EMAIL_BACKEND = "django.core.mail.backends.console.EmailBackend"
DEFAULT_FROM_EMAIL = env_str("DEFAULT_FROM_EMAIL", "Confide <no-reply@confide.invalid>")
SERVER_EMAIL = DEFAULT_FROM_EMAIL

# Email therapy (confide.mail). Replies come back to reply+<token>@MAIL_DOMAIN through the inbound
# gateway; `make run` starts it on MAIL_GATEWAY_PORT, production runs it behind the MTA.
MAIL_DOMAIN = env_str("MAIL_DOMAIN", "reply.confide.localhost").lower()
MAIL_GATEWAY_HOST = env_str("MAIL_GATEWAY_HOST", "127.0.0.1")
MAIL_GATEWAY_PORT = env_int("MAIL_GATEWAY_PORT", 8025, minimum=1)
MAIL_REPLY_TOKEN_DAYS = env_int("MAIL_REPLY_TOKEN_DAYS", 90, minimum=1)
# Authentication-Results headers count only when added by one of these authserv-ids (the MTA in
# front of the gateway); anyone can write such a header into a mail they send.
MAIL_TRUSTED_AUTHSERV_IDS = env_list("MAIL_TRUSTED_AUTHSERV_IDS", "")
MAIL_MAX_BYTES = env_int("MAIL_MAX_BYTES", 15 * 1024 * 1024, minimum=1024)
MAIL_PARSE_SECONDS = env_int("MAIL_PARSE_SECONDS", 10, minimum=1)
MAIL_PER_SENDER_PER_HOUR = env_int("MAIL_PER_SENDER_PER_HOUR", 60, minimum=1)
# A message waits this long before it is emailed to someone who chose email therapy, so a person
# reading in the app (or in a live session) is not also sent every line.
MAIL_DELAY_SECONDS = env_int("MAIL_DELAY_SECONDS", 60, minimum=0)

# Scheduling (confide.scheduling): when "Join" appears, when reminders go out, the calendar title.
SCHEDULING_JOIN_MINUTES_BEFORE = env_int("SCHEDULING_JOIN_MINUTES_BEFORE", 10, minimum=0)
SCHEDULING_REMINDER_HOURS = tuple(
    int(hours) for hours in env_list("SCHEDULING_REMINDER_HOURS", "24,1") if hours.isdecimal()
)
SCHEDULING_EVENT_TITLE = env_str("SCHEDULING_EVENT_TITLE", "Session with your therapist")

# Support between sessions (confide.support.tasks): gentle reminders of due questionnaires and
# exercises go out at most once a day per person, only between these hours of their own day
# (and never in their quiet hours); a sweep looks for them every SWEEP_MINUTES. A questionnaire
# is first reminded when it has waited AFTER_HOURS (the first one falls due when assigned).
SUPPORT_REMINDER_HOUR = env_int("SUPPORT_REMINDER_HOUR", 9, minimum=0)
SUPPORT_REMINDER_UNTIL_HOUR = env_int("SUPPORT_REMINDER_UNTIL_HOUR", 20, minimum=1)
if not SUPPORT_REMINDER_HOUR < SUPPORT_REMINDER_UNTIL_HOUR <= 24:
    raise ImproperlyConfigured(
        "SUPPORT_REMINDER_HOUR must be before SUPPORT_REMINDER_UNTIL_HOUR (at most 24)"
    )
SUPPORT_REMINDER_SWEEP_MINUTES = env_int("SUPPORT_REMINDER_SWEEP_MINUTES", 60, minimum=1)
SUPPORT_MEASURE_REMINDER_AFTER_HOURS = env_int("SUPPORT_MEASURE_REMINDER_AFTER_HOURS", 24)

# --- Static files ---------------------------------------------------------------------------------
STATIC_URL = "/static/"
STATIC_ROOT = VAR_DIR / "static"
STATIC_ROOT.mkdir(
    parents=True, exist_ok=True
)  # WhiteNoise serves from the finders until collectstatic
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": (
            "whitenoise.storage.CompressedManifestStaticFilesStorage"
            if env_bool("CONFIDE_MANIFEST_STATIC", False)
            else "django.contrib.staticfiles.storage.StaticFilesStorage"
        )
    },
}
WHITENOISE_USE_FINDERS = True

LANGUAGE_CODE = "en"
LANGUAGES = [
    ("en", "English"),
    ("de", "Deutsch"),
    ("fr", "Français"),
    ("es", "Español"),
    ("nl", "Nederlands"),
]
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

# No message content in logs: request bodies are never logged, and errors go to stderr only.
LOG_LEVEL = env_str("LOG_LEVEL", "INFO").upper()
LOGGING: dict[str, Any] = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"stderr": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["stderr"], "level": LOG_LEVEL},
    "loggers": {
        "django.request": {"level": "ERROR"},
        "axes": {"level": "WARNING"},
        "django_tasks": {"level": "WARNING"},
        # aiosmtpd logs every envelope address at INFO; Confide's own mail log names none.
        "mail.log": {"level": "WARNING"},
    },
}

NINJA_PAGINATION_PER_PAGE = 50
