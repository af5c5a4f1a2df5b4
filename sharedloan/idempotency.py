"""`Idempotency-Key` on every API write: a scanner on a flaky network that sends a checkout
again, because the first answer never arrived, gets the first answer again and lends once.

A write under /api/v1/ (POST, PUT, PATCH, DELETE) that carries the header runs inside one
transaction that first inserts (user, key) into IdempotentRequest and, after the view, stores
the answer in that row. So:

- the same user, key and request again → the stored status, body, Location and
  Content-Language, marked `Idempotent-Replayed: true`, and the work is not done again;
- the same key with another request (method, path, query or body) → 422
  `idempotency_key_reused`;
- the same key twice at the same moment → the unique constraint makes the second insert wait
  until the first transaction ends (PostgreSQL), then it answers as a retry does. Neither a
  second effect nor an answer stored without its effect is possible: they commit together;
- a 5xx (or a 429, which did nothing) rolls the whole request back and stores nothing, so a
  retry runs again.

Kept 24 hours (`manage.py cleanup_idempotency_keys`); an older key counts as new. Keys are per
user, so two scanners cannot collide. It is middleware rather than a view mixin so that every
endpoint has it without doing anything; it asks DRF's own authentication classes who the
caller is. A request that cannot be authenticated passes through untouched (the view answers
401 or 403).
"""

from __future__ import annotations

import hashlib
import re
from datetime import timedelta

from django.core.exceptions import RequestDataTooBig
from django.db import IntegrityError, transaction
from django.http import HttpResponse, JsonResponse
from django.http.multipartparser import MultiPartParserError
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from accounts.models import IdempotentRequest

HEADER = "Idempotency-Key"
REPLAYED_HEADER = "Idempotent-Replayed"
WRITE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
API_PREFIX = "/api/v1/"
KEEP = timedelta(hours=24)
MAX_KEY_LENGTH = 255
KEY_PATTERN = re.compile(r"^[\x21-\x7e]{1,255}$")  # visible ASCII, as a header value allows
# Answers larger than this (a generated file) are not kept: such a write is not idempotent.
MAX_STORED_BODY = 1024 * 1024
# Headers of the first answer a retry gets too: where to poll the job a write started, and the
# language its body is in (the retry may ask in another; the body is the first one's).
KEPT_HEADERS = ("Location", "Content-Language")
FORM_TYPES = ("multipart/form-data", "application/x-www-form-urlencoded")


def applies_to(request) -> bool:
    return request.method in WRITE_METHODS and request.path_info.startswith(API_PREFIX)


class _DoNotKeep(Exception):
    """Leaves the transaction, undoing everything, and carries the answer out."""

    def __init__(self, response):
        super().__init__()
        self.response = response


def error(status: int, code: str, message: str, **extra) -> JsonResponse:
    return JsonResponse(
        {"code": code, "message": message, **extra},
        status=status,
        json_dumps_params={"ensure_ascii": False},
    )


class IdempotencyMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        key = request.headers.get(HEADER)
        if key is None or not applies_to(request):
            return self.get_response(request)
        if not KEY_PATTERN.match(key):
            return error(
                400,
                "invalid",
                _("请求有误，请按各字段的说明改正后再发。"),
                fields={
                    HEADER: [
                        {
                            "code": "invalid",
                            "message": _("幂等键须为 1 到 255 个半角字母、数字或符号。"),
                        }
                    ]
                },
            )
        try:
            fingerprint = request_fingerprint(request)
        except (RequestDataTooBig, MultiPartParserError):
            return self.get_response(request)  # the view refuses it, with its own message
        user = api_user(request)
        if user is None:
            return self.get_response(request)
        try:
            with transaction.atomic():
                earlier = claim(user, key, fingerprint)
                if earlier is not None:
                    return answer_again(earlier, fingerprint)
                response = self.get_response(request)
                if response.status_code >= 500 or response.status_code == 429:
                    raise _DoNotKeep(response)
                keep(user, key, response)
                return response
        except _DoNotKeep as undone:
            return undone.response


def request_fingerprint(request) -> str:
    """SHA-256 of what makes two requests the same one. A form's multipart boundary is drawn
    afresh by each send (curl, browsers), so a form is hashed by its fields and files."""
    digest = hashlib.sha256()
    digest.update(f"{request.method} {request.path_info}?".encode())
    digest.update("&".join(sorted(request.META.get("QUERY_STRING", "").split("&"))).encode())
    content_type = request.content_type or ""
    if request.method == "POST" and content_type in FORM_TYPES:
        for name in sorted(request.POST):
            for value in request.POST.getlist(name):
                digest.update(f"\0{name}={value}".encode())
        for name in sorted(request.FILES):
            for upload in request.FILES.getlist(name):
                digest.update(f"\0{name}@{upload.name}:".encode())
                for chunk in upload.chunks():
                    digest.update(chunk)
                upload.seek(0)
    else:
        digest.update(b"\0" + content_type.encode() + b"\0")
        digest.update(request.body)
    return digest.hexdigest()


def api_user(request):
    """The caller as the API's own authentication classes see it, or None."""
    from rest_framework.exceptions import APIException
    from rest_framework.request import Request
    from rest_framework.settings import api_settings

    drf_request = Request(
        request, authenticators=[auth() for auth in api_settings.DEFAULT_AUTHENTICATION_CLASSES]
    )
    try:
        user = drf_request.user
    except APIException:
        return None
    return user if user.is_authenticated else None


def claim(user, key: str, fingerprint: str) -> IdempotentRequest | None:
    """Insert the key for this request, or return the earlier request that holds it. On
    PostgreSQL an insert that meets another transaction's uncommitted key waits for it."""
    now = timezone.now()
    IdempotentRequest.objects.filter(user=user, key=key, created_at__lt=now - KEEP).delete()
    try:
        with transaction.atomic():
            IdempotentRequest.objects.create(
                user=user,
                key=key,
                fingerprint=fingerprint,
                status_code=0,
                body=b"",
                created_at=now,
            )
    except IntegrityError:
        return IdempotentRequest.objects.get(user=user, key=key)
    return None


def answer_again(earlier: IdempotentRequest, fingerprint: str):
    if earlier.fingerprint != fingerprint:
        return error(
            422,
            "idempotency_key_reused",
            _("这个幂等键已用于另一个请求。重试时请原样重发，新的请求请换一个新键。"),
        )
    response = HttpResponse(
        bytes(earlier.body), status=earlier.status_code, content_type=earlier.content_type or None
    )
    for name, value in earlier.headers.items():
        response[name] = value
    response[REPLAYED_HEADER] = "true"
    return response


def keep(user, key: str, response) -> None:
    if response.streaming or len(response.content) > MAX_STORED_BODY:
        IdempotentRequest.objects.filter(user=user, key=key).delete()
        return
    # The language middleware, outside this one, adds Content-Language only after this.
    headers = {"Content-Language": translation.get_language()}
    headers.update({name: response[name] for name in KEPT_HEADERS if response.has_header(name)})
    IdempotentRequest.objects.filter(user=user, key=key).update(
        status_code=response.status_code,
        content_type=response.get("Content-Type", ""),
        body=response.content,
        headers=headers,
    )


def idempotent_requests_cleanup(*, now=None, dry_run: bool = False) -> int:
    """Forget the answers older than 24 hours; returns how many (or would be, on a dry run)."""
    old = IdempotentRequest.objects.filter(created_at__lt=(now or timezone.now()) - KEEP)
    if dry_run:
        return old.count()
    deleted, _detail = old.delete()
    return deleted
