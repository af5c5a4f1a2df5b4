"""Settings for 共享借阅.

Everything that differs between a developer's laptop and a county's server comes from the
environment (or a `.env` file beside manage.py). The defaults suit development: SQLite, debug on,
a throwaway secret key. Production sets DJANGO_ENV=production, which turns debug off and makes
the secret key and allowed hosts mandatory.
"""

from datetime import timedelta
from pathlib import Path

import environ
from csp.constants import NONCE, NONE, SELF
from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext_lazy as _
from whitenoise.compress import Compressor

BASE_DIR = Path(__file__).resolve().parent.parent

env = environ.Env()
environ.Env.read_env(BASE_DIR / ".env", overwrite=False)

DJANGO_ENV = env.str("DJANGO_ENV", default="development")
if DJANGO_ENV not in {"development", "test", "production"}:
    raise ImproperlyConfigured(
        f"DJANGO_ENV must be development, test or production, not {DJANGO_ENV!r}"
    )
PRODUCTION = DJANGO_ENV == "production"

# Off unless asked for: someone trying the demo gets the product's own error pages, never
# Django's debug page with the URL map. DJANGO_DEBUG=true on a developer's laptop.
DEBUG = env.bool("DJANGO_DEBUG", default=False)
if PRODUCTION and DEBUG:
    raise ImproperlyConfigured("DJANGO_DEBUG must be off in production")

if PRODUCTION:
    SECRET_KEY = env.str("DJANGO_SECRET_KEY")
    ALLOWED_HOSTS = env.list("DJANGO_ALLOWED_HOSTS")
else:
    SECRET_KEY = env.str(
        "DJANGO_SECRET_KEY", default="development-only-not-secret-0123456789abcdefghijklmnop"
    )
    ALLOWED_HOSTS = env.list("DJANGO_ALLOWED_HOSTS", default=["127.0.0.1", "localhost", "[::1]"])

CSRF_TRUSTED_ORIGINS = env.list("DJANGO_CSRF_TRUSTED_ORIGINS", default=[])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    # Django's own form widget templates, for FORM_RENDERER below.
    "django.forms",
    "django_filters",
    "rest_framework",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "simple_history",
    "accounts.lockouts.LockoutsConfig",  # django-axes
    "accounts",
    "collections_app",
    "circulation",
    "reports",
    "readers",
    "django_tasks",
    "django_tasks_db",
    "jobs",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    # Report reads to the read replica, when there is one (before anything reads or writes).
    "sharedloan.db_routers.ReplicaReadsMiddleware",
    "csp.middleware.CSPMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    # The language the user chose (cookie or account), else Chinese; never Accept-Language.
    "sharedloan.locale.ChosenLanguageMiddleware",
    # API input with a NUL character is answered at the door (PostgreSQL cannot store it).
    "sharedloan.api_input.RejectNulMiddleware",
    # API writes with an Idempotency-Key run once; a retry gets the first answer again.
    "sharedloan.idempotency.IdempotencyMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "simple_history.middleware.HistoryRequestMiddleware",
    # Last, as django-axes asks: it turns a locked-out sign-in into the login page's message.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "sharedloan.urls"
# Django's database sessions, read with a fixed SQL string (sharedloan/sessions.py).
SESSION_ENGINE = "sharedloan.sessions"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "accounts.context_processors.navigation",
                "csp.context_processors.nonce",
            ],
        },
    },
]
# Form widgets render through the templates above, so templates/ may override one of Django's
# widget templates (templates/admin/widgets/split_datetime.html labels its two inputs).
FORM_RENDERER = "django.forms.renderers.TemplatesSetting"

WSGI_APPLICATION = "sharedloan.wsgi.application"

# SQLite is the embedded default; DATABASE_URL=postgres://... switches to PostgreSQL.
DATABASES = {
    "default": env.db_url("DATABASE_URL", default=f"sqlite:///{BASE_DIR / 'db.sqlite3'}"),
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
    # A new connection costs about 5 ms on these machines: keep them open between requests,
    # either each worker its own persistent connection (the default) or, with DATABASE_POOL,
    # psycopg's pool in each worker process (Django then closes nothing, it hands connections
    # back; a pool needs CONN_MAX_AGE 0). bench/checkout.py measures both; docs/deployment.md.
    if env.bool("DATABASE_POOL", default=False):
        DATABASES["default"]["CONN_MAX_AGE"] = 0
        DATABASES["default"].setdefault("OPTIONS", {})["pool"] = {
            "min_size": env.int("DATABASE_POOL_MIN_SIZE", default=1),
            "max_size": env.int("DATABASE_POOL_MAX_SIZE", default=4),
            "timeout": env.float("DATABASE_POOL_TIMEOUT", default=10.0),
        }
    else:
        DATABASES["default"]["CONN_MAX_AGE"] = env.int("DATABASE_CONN_MAX_AGE", default=600)
    DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
else:
    DATABASES["default"].setdefault("OPTIONS", {})
    DATABASES["default"]["OPTIONS"].setdefault("timeout", 20)
    # The shelf's covering index (collections_app Item, item_shelf_last_loan) is PostgreSQL's
    # index-only read; SQLite builds it without the included columns, which is all the demo
    # needs, and Django would otherwise say so on every command.
    SILENCED_SYSTEM_CHECKS = ["models.W040"]
# A PostgreSQL streaming replica for the report pages and exports (sharedloan/db_routers.py says
# which reads go there; writes never do). In tests it mirrors the test database, which reaches
# the replica by streaming. After any write a browser reads the primary for REPLICA_PIN_SECONDS.
if env.str("DATABASE_REPLICA_URL", default=""):
    DATABASES["replica"] = env.db_url("DATABASE_REPLICA_URL")
    DATABASES["replica"]["CONN_MAX_AGE"] = DATABASES["default"].get("CONN_MAX_AGE", 0)
    if "pool" in DATABASES["default"].get("OPTIONS", {}):
        DATABASES["replica"].setdefault("OPTIONS", {})["pool"] = dict(
            DATABASES["default"]["OPTIONS"]["pool"]
        )
    DATABASES["replica"]["CONN_HEALTH_CHECKS"] = True
    DATABASES["replica"]["TEST"] = {"MIRROR": "default"}
DATABASE_ROUTERS = ["sharedloan.db_routers.ReplicaRouter"]
# The desk's fixed SQL strings are prepared on each PostgreSQL connection (sharedloan/prepared.py);
# false behind a pooler that cannot keep prepared statements (PgBouncer before 1.21).
DATABASE_PREPARED_STATEMENTS = env.bool("DATABASE_PREPARED_STATEMENTS", default=True)
REPLICA_PIN_SECONDS = env.int("DATABASE_REPLICA_PIN_SECONDS", default=15)

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
AUTH_USER_MODEL = "accounts.User"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

AUTHENTICATION_BACKENDS = [
    # Refuses a sign-in while its username and address are locked out, before the password.
    "axes.backends.AxesStandaloneBackend",
    # Django's ModelBackend, reading the signed-in user with one fixed SQL string.
    "accounts.backends.StaffBackend",
]

# Sign-in throttling (django-axes). A county library's desks often share one public address, so
# a lockout holds one username at one address: the other librarians at that address sign in.
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_FAILURE_LIMIT = env.int("SHAREDLOAN_LOGIN_FAILURE_LIMIT", default=5)
AXES_COOLOFF_TIME = timedelta(minutes=env.int("SHAREDLOAN_LOGIN_COOLOFF_MINUTES", default=15))
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_CALLABLE = "accounts.views.login_locked_out"
AXES_CLIENT_IP_CALLABLE = "accounts.lockouts.client_address"
# One line per lockout is enough; not a banner on every manage.py command.
AXES_VERBOSE = False
# Reverse proxies in front of gunicorn (nginx: 1) whose X-Forwarded-For names the reader's
# address; 0 trusts only the connection's own address.
SHAREDLOAN_PROXY_COUNT = env.int("SHAREDLOAN_PROXY_COUNT", default=0)

LOGIN_URL = "accounts:login"
LOGIN_REDIRECT_URL = "circulation:home"
LOGOUT_REDIRECT_URL = "accounts:login"

LANGUAGE_CODE = "zh-hans"
LANGUAGES = [
    ("zh-hans", _("简体中文")),
    ("en", _("English")),
]
# The second holds Chinese for django-axes' admin, the third Chinese for the admin strings
# Django's own zh_Hans catalogue lacks; both outside any folder makemessages rewrites.
LOCALE_PATHS = [
    BASE_DIR / "locale",
    BASE_DIR / "accounts" / "axes_locale",
    BASE_DIR / "sharedloan" / "django_locale",
]
TIME_ZONE = env.str("DJANGO_TIME_ZONE", default="Asia/Shanghai")
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
# Outside production, WhiteNoise serves the files straight from static/ and the apps, so
# `make run` needs no collectstatic and works with debug off.
WHITENOISE_USE_FINDERS = not PRODUCTION
# Source maps (several MB, for a developer's tools only) are not compressed: brotli at its best
# quality made collectstatic take over a minute for them alone.
WHITENOISE_SKIP_COMPRESS_EXTENSIONS = (*Compressor.SKIP_COMPRESS_EXTENSIONS, "map")
WHITENOISE_AUTOREFRESH = not PRODUCTION
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = env.path("DJANGO_STATIC_ROOT", default=BASE_DIR / "staticfiles")
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": (
            "whitenoise.storage.CompressedManifestStaticFilesStorage"
            if PRODUCTION
            else "django.contrib.staticfiles.storage.StaticFilesStorage"
        )
    },
}

REST_FRAMEWORK = {
    # Token first: its WWW-Authenticate header makes a missing or wrong token a 401.
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "accounts.tokens.TokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": [
        "rest_framework.permissions.IsAuthenticated",
        "sharedloan.api_permissions.ReadOnlyRolesOnlyRead",
    ],
    # JSON only, as the schema says: no browsable HTML (a browser's Accept has */* and gets
    # JSON; text/html alone is the documented 406). Views that also give CSV, XLSX or PDF
    # list their own renderers.
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_FILTER_BACKENDS": ["django_filters.rest_framework.DjangoFilterBackend"],
    "DEFAULT_PAGINATION_CLASS": "rest_framework.pagination.PageNumberPagination",
    "PAGE_SIZE": 50,
    # Every operation documents the Idempotency-Key header and its real error answers.
    "DEFAULT_SCHEMA_CLASS": "sharedloan.api_schema.AutoSchema",
    "EXCEPTION_HANDLER": "sharedloan.api_errors.exception_handler",
    # Generous for a self-check machine scanning all day; a stolen token still cannot flood.
    "DEFAULT_THROTTLE_CLASSES": [
        "rest_framework.throttling.AnonRateThrottle",
        "rest_framework.throttling.UserRateThrottle",
    ],
    "DEFAULT_THROTTLE_RATES": {
        "anon": env.str("SHAREDLOAN_API_ANON_RATE", default="30/min"),
        "user": env.str("SHAREDLOAN_API_USER_RATE", default="600/min"),
    },
}
SPECTACULAR_SETTINGS = {
    "TITLE": "共享借阅 API",
    "DESCRIPTION": "Shared-loan collections platform: libraries, sites and NLC volumes.",
    "VERSION": "1",
    "SERVE_INCLUDE_SCHEMA": False,
    # Swagger UI from the app itself, not from a CDN: county networks are often intranets.
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "ENUM_NAME_OVERRIDES": {
        "ItemStatusEnum": "collections_app.models.Item.Status",
        "ConsignmentStatusEnum": "collections_app.models.Consignment.Status",
        "HoldStatusEnum": "circulation.models.Hold.Status",
        "PeriodReportStatusEnum": "reports.models.PeriodReport.Status",
        "PeriodReportKindEnum": "reports.models.PeriodReport.Kind",
        "TransferStatusEnum": "collections_app.models.Transfer.Status",
        "JobStatusEnum": "jobs.models.Job.Status",
    },
}

# Searches of the public catalogue one address may run (the API's rate format: N/sec|min|hour).
CATALOGUE_SEARCH_RATE = env.str("SHAREDLOAN_CATALOGUE_SEARCH_RATE", default="30/min")
# A reader's PIN sign-in: wrong PINs allowed per card and per address before both are locked
# for the cool-off (a four-digit PIN must not be guessable by trying).
READER_SIGNIN_CARD_LIMIT = env.int("SHAREDLOAN_READER_SIGNIN_CARD_LIMIT", default=5)
READER_SIGNIN_ADDRESS_LIMIT = env.int("SHAREDLOAN_READER_SIGNIN_ADDRESS_LIMIT", default=30)
READER_SIGNIN_COOLOFF_SECONDS = env.int("SHAREDLOAN_READER_SIGNIN_COOLOFF_SECONDS", default=900)

# Days after which a dispatched transfer counts as overdue on the dashboards.
TRANSIT_OVERDUE_DAYS = env.int("SHAREDLOAN_TRANSIT_OVERDUE_DAYS", default=7)

# What one manifest may hold, enforced while it is read (a file under the byte caps can still
# unpack to millions of rows).
CONSIGNMENT_IMPORT_MAX_ROWS = env.int("SHAREDLOAN_IMPORT_MAX_ROWS", default=100_000)
CONSIGNMENT_IMPORT_MAX_CELLS = env.int("SHAREDLOAN_IMPORT_MAX_CELLS", default=2_000_000)
CONSIGNMENT_IMPORT_MAX_CELL_CHARS = env.int("SHAREDLOAN_IMPORT_MAX_CELL_CHARS", default=5_000)
CONSIGNMENT_IMPORT_MAX_SHARED_STRINGS_BYTES = env.int(
    "SHAREDLOAN_IMPORT_MAX_SHARED_STRINGS_BYTES", default=64 * 1024 * 1024
)
# Manifest uploads: the largest file accepted, and how far an XLSX (a zip) may inflate.
CONSIGNMENT_IMPORT_MAX_BYTES = env.int("SHAREDLOAN_IMPORT_MAX_BYTES", default=30 * 1024 * 1024)
CONSIGNMENT_IMPORT_MAX_XLSX_BYTES = env.int(
    "SHAREDLOAN_IMPORT_MAX_XLSX_BYTES", default=200 * 1024 * 1024
)

# Background jobs (jobs/): django-tasks on the database backend, run by `manage.py db_worker`;
# no broker. A previewed manifest and a job's output wait in the database, not on a server's
# disk, for JOB_FILE_KEEP_SECONDS. A run silent for JOB_STALE_SECONDS is taken for a dead worker
# and re-queued, JOB_MAX_ATTEMPTS runs at most. Finished jobs are kept JOB_KEEP_DAYS.
TASKS = {
    "default": {
        "BACKEND": env.str("SHAREDLOAN_TASKS_BACKEND", default="django_tasks_db.DatabaseBackend")
    }
}
JOB_FILE_KEEP_SECONDS = env.int("SHAREDLOAN_JOB_FILE_KEEP_SECONDS", default=24 * 60 * 60)
JOB_STALE_SECONDS = env.int("SHAREDLOAN_JOB_STALE_SECONDS", default=300)
JOB_MAX_ATTEMPTS = env.int("SHAREDLOAN_JOB_MAX_ATTEMPTS", default=3)
JOB_KEEP_DAYS = env.int("SHAREDLOAN_JOB_KEEP_DAYS", default=30)

if PRODUCTION:
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SECURE_SSL_REDIRECT = env.bool("DJANGO_SECURE_SSL_REDIRECT", default=True)
    SECURE_HSTS_SECONDS = env.int("DJANGO_SECURE_HSTS_SECONDS", default=60 * 60 * 24 * 365)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = env.bool("DJANGO_SECURE_HSTS_PRELOAD", default=True)
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True

CSRF_FAILURE_VIEW = "sharedloan.errors.csrf_failure"

# The API throttles count in this cache. Each gunicorn worker has its own memory, so a server
# with several workers sets a shared one: DJANGO_CACHE_URL=dbcache://sharedloan_cache (after
# `manage.py createcachetable`).
CACHES = {"default": env.cache_url("DJANGO_CACHE_URL", default="locmemcache://")}

# Content-Security-Policy (django-csp): scripts and styles only from our own static files or
# carrying the page's nonce; no inline event handlers or style attributes anywhere.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF, NONCE],
        "style-src": [SELF, NONCE],
        "img-src": [SELF, "data:"],
        "font-src": [SELF],
        "connect-src": [SELF],
        "object-src": [NONE],
        "base-uri": [SELF],
        "form-action": [SELF],
        "frame-ancestors": [NONE],
    },
}

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"forbidden_in_one_line": {"()": "sharedloan.errors.ForbiddenInOneLine"}},
    "handlers": {
        "console": {"class": "logging.StreamHandler", "filters": ["forbidden_in_one_line"]}
    },
    "root": {"handlers": ["console"], "level": env.str("DJANGO_LOG_LEVEL", default="INFO")},
    # Sign-in lockouts are worth a line; every successful sign-in and clean-up is not.
    "loggers": {"axes": {"level": env.str("SHAREDLOAN_AXES_LOG_LEVEL", default="WARNING")}},
}
