"""Create forms that are sent once: a double click, a resend after a slow answer or the same
page in two tabs makes one transfer, one display, one box — never two, and never a 500.

Each create form carries a hidden `SubmissionKeyField`, a fresh random key drawn when the page
is rendered. The view claims the key in the same transaction as the create:

    try:
        with submitted_once(request.user, form.cleaned_data["submission"], "display") as claim:
            display = display_create(...)
            claim.done(reverse("collections:display-detail", args=[display.pk]))
    except AlreadySubmitted as first:
        messages.info(request, first.message)
        return redirect(first.url)

A second submission with the same key finds it taken (the unique constraint decides, even when
both arrive at the same moment: the second insert waits for the first transaction) and is sent
to what the first one made. A refused create rolls its claim back, so the librarian can correct
the form and send it again. A form sent without a key (an old page, a script) is not guarded.
"""

from __future__ import annotations

import uuid
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import timedelta

from django import forms
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import FormSubmission


def new_key() -> str:
    return uuid.uuid4().hex


class SubmissionKeyField(forms.CharField):
    """The hidden one-time key of a create form, drawn anew each time the page is rendered."""

    widget = forms.HiddenInput

    def __init__(self, **kwargs):
        kwargs.setdefault("required", False)
        kwargs.setdefault("max_length", 64)
        kwargs.setdefault("initial", new_key)
        super().__init__(**kwargs)


class AlreadySubmitted(Exception):
    def __init__(self, url: str):
        super().__init__(url)
        self.url = url
        self.message = _("这张表单已经提交过了，这是上次提交的结果。")


@dataclass
class Claim:
    row: FormSubmission | None

    def done(self, url: str) -> None:
        """Where a repeat of this submission is sent: what the first one made."""
        if self.row is not None:
            FormSubmission.objects.filter(pk=self.row.pk).update(result_url=url[:300])


@contextmanager
def submitted_once(user, key: str, form: str, *, fallback: str = "/"):
    """Claim `key` for `user` and run the body in the same transaction; raise AlreadySubmitted
    (with the first submission's result, or `fallback`) when the key was claimed before."""
    with transaction.atomic():
        if not key or not user.is_authenticated:
            yield Claim(None)
            return
        try:
            with transaction.atomic():
                row = FormSubmission.objects.create(user=user, key=key[:64], form=form)
        except IntegrityError:
            first = FormSubmission.objects.filter(user=user, key=key[:64]).first()
            raise AlreadySubmitted((first.result_url if first else "") or fallback) from None
        yield Claim(row)


# A form page left open over a weekend is still sent once; a key older than this is forgotten.
FORM_KEY_KEEP = timedelta(days=7)


def form_submissions_cleanup(*, now=None) -> int:
    """Forget create-form keys older than FORM_KEY_KEEP; returns how many."""
    old = FormSubmission.objects.filter(created_at__lt=(now or timezone.now()) - FORM_KEY_KEEP)
    deleted, _detail = old.delete()
    return deleted
