"""The OpenAPI schema's side of the API contract, added to every operation so that no endpoint
has to remember it: the `Idempotency-Key` header on every write (sharedloan.idempotency), and
the error answers each operation can really give, all in the one shape of
sharedloan.api_errors (the `Error` component).

Which errors an operation documents follows from what it is:

- 401 everywhere: no token, or a wrong or revoked one;
- 403 on writes: a role or token that may not (read-only roles and read-only tokens on any
  write, the `can_…` predicates). A read never answers 403: what the caller may not see is 404;
- 406 everywhere: an Accept header that asks for none of the operation's content types;
- 429 everywhere: the throttles;
- 400 where there is input: a body (also one that is no JSON: `parse_error`), the
  Idempotency-Key header, or query parameters (filters);
- 415 where there is a body: a Content-Type the operation does not read;
- 404 where something is looked up: a path parameter or a list's page. A write without a path
  parameter that looks up what its body names (a desk's site, a reader) declares its 404
  itself, so that no write documents a 404 it cannot give;
- 409 on writes: a service refused (the desk's and the pages' own refusals), except the
  actions a view lists in `never_refused` (a write that only starts a job, whose own refusal
  is in the job's status);
- 422 on writes: the Idempotency-Key was used before for another request.

An operation that declares one of these codes itself (`@extend_schema(responses=…)`) keeps its
own description of it.
"""

from drf_spectacular import openapi
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse
from rest_framework import serializers

from sharedloan.idempotency import HEADER, MAX_KEY_LENGTH, WRITE_METHODS


class FieldErrorSerializer(serializers.Serializer):
    code = serializers.CharField(help_text="Stable code of this error, e.g. `required`.")
    message = serializers.CharField(help_text="What is wrong, in the caller's language.")


class ProblemSerializer(serializers.Serializer):
    where = serializers.CharField(help_text="The row, barcode or object the refusal is about.")
    message = serializers.CharField(help_text="Why it was refused there.")


# The codes of the desk's refusals (circulation.services.loans): a self-check machine acts on
# them without reading the message. Any other refusal is `refused`.
DESK_REFUSALS = (
    "barcode_invalid",
    "item_not_found",
    "item_not_ours",
    "item_on_loan",
    "item_not_here",
    "item_in_transit",
    "item_out_of_service",
    "item_on_transfer",
    "kept_for_hold",
    "patron_not_found",
    "patron_suspended",
    "loan_limit_reached",
    "overdue_block",
    "already_returned",
    "item_not_on_loan",
    "renewal_limit",
    "renewal_too_early",
    "hold_waiting",
    "site_inactive",
    "site_not_allowed",
)


class ErrorSerializer(serializers.Serializer):
    """Every error of the API: branch on `code`, show `message`."""

    code = serializers.CharField(
        help_text=(
            "Stable machine-readable code: `invalid`, `parse_error`, `bad_request`, "
            "`not_authenticated`, `authentication_failed`, `permission_denied`, "
            "`read_only_token`, `not_found`, `not_acceptable`, `unsupported_media_type`, "
            "`refused` (409; a checkout, return or renewal says which rule refused: "
            + ", ".join(f"`{code}`" for code in DESK_REFUSALS)
            + "), `job_failed`, `idempotency_key_reused`, `throttled`, `server_error` (500), …"
        )
    )
    message = serializers.CharField(
        help_text="For a person: Chinese by default, English on `Accept-Language: en`."
    )
    fields = serializers.DictField(
        child=serializers.JSONField(),
        required=False,
        help_text=(
            "On `invalid`: each field (or header) in error, with a list of "
            "{code, message}; nested fields nest the same way."
        ),
    )
    problems = ProblemSerializer(
        many=True, required=False, help_text="On a refusal (409): every row refused."
    )
    retry_after = serializers.IntegerField(
        required=False, help_text="On `throttled` (429): seconds to wait."
    )


IDEMPOTENCY_KEY = OpenApiParameter(
    name=HEADER,
    location=OpenApiParameter.HEADER,
    required=False,
    type={
        "type": "string",
        "minLength": 1,
        "maxLength": MAX_KEY_LENGTH,
        "pattern": "^[\\x21-\\x7e]+$",
    },
    description=(
        "A key the client draws for this request (a UUID will do). Sent again with the same "
        "body — a retry after a lost answer — it returns the first answer (marked "
        "`Idempotent-Replayed: true`) and does the work once. The same key with another body "
        "is 422 `idempotency_key_reused`. Keys are per user and kept 24 hours."
    ),
)

ERRORS = {
    "400": "The request is invalid: see `fields` (`invalid`), or its body is no JSON "
    "(`parse_error`).",
    "401": "No credentials, or a token that is wrong or revoked.",
    "403": "The caller's role or token may not do this (`permission_denied`, `read_only_token`).",
    "404": "Not found, or outside the caller's scope (`not_found`).",
    "406": "The Accept header asks for no content type this operation gives (`not_acceptable`).",
    "409": "Refused by the rules (`refused` or the refusal's own code, with `problems`).",
    "415": "The body's Content-Type is not one this operation reads (`unsupported_media_type`).",
    "422": "This Idempotency-Key was used for another request (`idempotency_key_reused`).",
    "429": "Too many requests (`throttled`, with `retry_after`).",
}


def not_found(description: str) -> OpenApiResponse:
    """The 404 of a write that has no path parameter but looks up what its body names."""
    return OpenApiResponse(ErrorSerializer, description=description + " (`not_found`).")


class AutoSchema(openapi.AutoSchema):
    def get_override_parameters(self):
        parameters = list(super().get_override_parameters())
        if self.method in WRITE_METHODS:
            parameters.append(IDEMPOTENCY_KEY)
        return parameters

    def get_operation(self, *args, **kwargs):
        operation = super().get_operation(*args, **kwargs)
        if operation is None:
            return None
        responses = operation.setdefault("responses", {})
        error = self.resolve_serializer(ErrorSerializer, "response").ref
        for code in self.error_codes(operation):
            responses.setdefault(
                code,
                {
                    "description": ERRORS[code],
                    "content": {"application/json": {"schema": error}},
                },
            )
        operation["responses"] = dict(sorted(responses.items()))
        return operation

    def error_codes(self, operation) -> list[str]:
        codes = ["401", "406", "429"]
        parameters = operation.get("parameters", [])
        is_write = self.method in WRITE_METHODS
        if is_write:
            codes.append("403")
        has_query = any(parameter["in"] == "query" for parameter in parameters)
        if is_write or has_query:
            codes.append("400")
        if "requestBody" in operation:
            codes.append("415")
        has_path = any(parameter["in"] == "path" for parameter in parameters)
        if has_path or (self._is_list_view() and self._get_paginator()):
            codes.append("404")
        if is_write:
            codes.append("422")
            if getattr(self.view, "action", None) not in getattr(self.view, "never_refused", ()):
                codes.append("409")
        return codes
