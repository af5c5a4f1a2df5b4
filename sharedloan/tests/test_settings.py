"""Settings read the environment and fail loudly on bad values."""

import os
import subprocess
import sys
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parents[2]


def run_check(**env):
    environment = {
        k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "DATABASE_"))
    }
    environment.update(env)
    return subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=BASE_DIR,
        env=environment,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_production_refuses_to_start_without_a_secret_key():
    result = run_check(DJANGO_ENV="production", DJANGO_ALLOWED_HOSTS="library.example.org")
    assert result.returncode != 0
    assert "DJANGO_SECRET_KEY" in result.stderr


def test_an_unknown_environment_name_is_refused():
    result = run_check(DJANGO_ENV="staging")
    assert result.returncode != 0
    assert "DJANGO_ENV must be development, test or production" in result.stderr


def test_production_settings_pass_the_deploy_check():
    result = run_check(
        DJANGO_ENV="production",
        DJANGO_SECRET_KEY="a-long-random-production-key-" + "x7Qp" * 10,
        DJANGO_ALLOWED_HOSTS="library.example.org",
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_debug_cannot_be_switched_on_in_production():
    result = run_check(
        DJANGO_ENV="production",
        DJANGO_DEBUG="true",
        DJANGO_SECRET_KEY="a-long-random-production-key-" + "x7Qp" * 10,
        DJANGO_ALLOWED_HOSTS="library.example.org",
    )
    assert result.returncode != 0
    assert "DJANGO_DEBUG must be off in production" in result.stderr


def test_every_setting_the_code_reads_is_declared_in_settings():
    import re
    from pathlib import Path

    from django.conf import settings

    root = Path(__file__).resolve().parents[2]
    read = set()
    for path in root.glob("**/*.py"):
        relative = path.relative_to(root).as_posix()
        if relative.startswith((".venv/", "staticfiles/")) or "/tests/" in relative:
            continue
        text = path.read_text(encoding="utf-8")
        if "settings" not in text:
            continue
        read |= set(re.findall(r"\bsettings\.([A-Z][A-Z0-9_]+)\b", text))
        read |= set(re.findall(r"getattr\(settings,\s*\"([A-Z][A-Z0-9_]+)\"", text))
    assert read, "the walk found no settings read at all"
    assert sorted(name for name in read if not hasattr(settings, name)) == []
