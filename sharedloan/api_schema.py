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
    code = serializers.CharField(
        help_text="Stable code of this row's reason, e.g. `item_on_loan` or `item_not_here`; "
        "the refusal's own code where no more specific one applies."
    )
    message = serializers.CharField(help_text="Why it was refused there.")


# The codes of the services' refusals (409, `collections_app.errors.Refused`), each named after
# its rule: a client (a self-check machine, a county's script) acts on them without reading the
# message. The same rule has the same code in every service; a refused row in `problems` carries
# the code of its own reason. `refused` is left only for a refusal no rule here names.
REFUSALS = {
    "the desk (checkout, return, renewal, holds to pull)": {
        "barcode_invalid": "no barcode, or one too long or malformed",
        "item_not_found": "no volume of the library has this barcode",
        "item_not_ours": "the volume belongs to another library",
        "item_on_loan": "the volume is on loan",
        "item_not_here": "the volume is recorded at another site",
        "item_in_transit": "the volume is on its way on a transfer",
        "item_out_of_service": "missing, damaged, withdrawn, returned to the lender or not yet "
        "received",
        "item_on_transfer": "the volume is on a transfer (a draft reserves it too)",
        "kept_for_hold": "the volume is kept for a reader's hold",
        "patron_not_found": "no such reader in the site's library (404 when the API looks "
        "the card up itself)",
        "patron_suspended": "the reader's card is suspended",
        "loan_limit_reached": "the reader has as many volumes as the loan rule allows",
        "overdue_block": "the reader has overdue volumes and the rule blocks new loans",
        "loan_rule_missing": "no loan rule for this category of reader",
        "already_returned": "the loan was returned before",
        "item_not_on_loan": "the volume is not on loan",
        "renewal_limit": "no renewals left",
        "renewal_too_early": "too early to renew",
        "hold_waiting": "another reader waits for the title: no renewal",
        "no_reader_waiting": "nobody waits for this title: shelve the volume",
    },
    "sites and rights": {
        "site_inactive": "the site is closed (inactive)",
        "site_not_allowed": "the caller may not work at this site",
        "site_not_ours": "the site belongs to another library",
        "librarian_only": "only the county library's librarians may do this",
    },
    "transfers and book boxes": {
        "transfer_not_draft": "the transfer is dispatched, received or cancelled already",
        "transfer_not_dispatched": "the transfer is not on its way, so nothing can be received",
        "transfer_closed": "the transfer is received or cancelled already",
        "transfer_empty": "the transfer has no volumes to dispatch",
        "destination_required": "a transfer between sites needs a destination",
        "destination_unexpected": "a return to the lender has no destination",
        "destination_is_source": "the destination is the sending site",
        "not_destination": "received at a site that is not the destination",
        "no_matching_items": "no volume on the shelf matches the allocation filters",
        "count_required": "how many volumes to allocate is missing",
        "items_not_transferable": "volumes cannot go on the transfer (each in `problems`)",
        "items_not_receivable": "scanned barcodes cannot be received (each in `problems`)",
        "extra_not_receivable": "(a row) a volume not on the transfer cannot arrive as extra",
        "box_code_taken": "another box has this label code",
        "box_empty": "the box has no volumes",
        "box_on_transfer": "the box is on a transfer (sent already)",
        "box_not_in_transit": "the box is not on its way",
        "items_scattered": "the volumes stand at more than one site",
        "items_not_packable": "volumes cannot be packed (each in `problems`)",
        "item_in_other_box": "(a row) the volume is in another box",
    },
    "consignments (receiving)": {
        "no_central_site": "the library has no active central library to receive at",
        "lender_not_national": "the lender must be the National Library",
        "term_ends_too_early": "the term ends before the agreement date",
        "consignment_reference_taken": "the lender has a consignment with this reference",
        "consignment_not_importable": "the consignment is past receiving: no more manifests",
        "consignment_not_announced": "receiving has started already",
        "consignment_not_receiving": "the consignment is not being received",
        "manifest_missing": "import the manifest before receiving",
        "import_invalid": "rows of the file are wrong; nothing was imported",
        "import_conflict": "another import took some of its numbers a moment ago",
    },
    "holds": {
        "title_not_found": "no volume has this barcode and no title this ISBN",
        "isbn_ambiguous": "the ISBN names several titles: scan a copy's barcode",
        "hold_other_library": "the title or the pickup site is not of the reader's library",
        "hold_not_own": "a reader may place and cancel only their own holds",
        "holds_not_allowed": "the loan rule allows this category of reader no holds",
        "already_borrowed": "the reader has the title on loan",
        "no_lendable_copy": "the library has no copy of the title that circulates",
        "hold_already_placed": "the reader holds this title already",
        "hold_not_active": "the hold is fulfilled, cancelled or expired",
    },
    "readers": {
        "card_number_taken": "another reader of the library has this card",
        "birth_year_invalid": "the birth year is not plausible",
        "patron_not_editable": "the caller may not change this reader",
        "reason_required": "a suspension needs its reason",
        "reason_too_long": "the reason is too long",
    },
    "met only on the pages, not through this API": {
        "import_empty": "the readers' file has no rows",
        "pin_invalid": "a reader's PIN is 4 to 8 digits",
        "loan_rule_exists": "a rule for this category and site kind exists",
        "loan_rule_not_ours": "the loan rule is another library's",
        "loan_days_invalid": "the loan days are out of range",
        "closed_day_exists": "the closed day was added a moment ago",
        "display_ended": "the display has ended",
        "ends_before_start": "the end date is before the start",
        "items_not_displayable": "volumes cannot go on the display",
        "items_required": "no volumes chosen",
        "status_not_markable": "volumes cannot be marked with this status",
        "items_not_markable": "volumes cannot be marked (each in `problems`)",
        "rotation_plan_no_stops": "the rotation plan has no stops",
        "rotation_plan_invalid": "stops of the plan are wrong (each in `problems`)",
        "rotation_stop_in_use": "volumes of the plan stand at the stop to delete",
        "items_not_rotatable": "volumes or boxes cannot join the plan",
        "suggestions_required": "no suggestion chosen",
    },
}
REFUSAL_CODES = {code for codes in REFUSALS.values() for code in codes}


def _refusals_described() -> str:
    return "; ".join(
        f"{area}: " + ", ".join(f"`{code}` ({meaning})" for code, meaning in codes.items())
        for area, codes in REFUSALS.items()
    )


class ErrorSerializer(serializers.Serializer):
    """Every error of the API: branch on `code`, show `message`."""

    code = serializers.CharField(
        help_text=(
            "Stable machine-readable code: `invalid`, `parse_error`, `bad_request`, "
            "`not_authenticated`, `authentication_failed`, `permission_denied`, "
            "`read_only_token`, `not_found`, `not_acceptable`, `unsupported_media_type`, "
            "`refused` (409), `job_failed`, `idempotency_key_reused`, `throttled`, "
            "`server_error` (500), …. A refusal (409) names the rule that refused — "
            + _refusals_described()
            + "."
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


def not_found(description: str, codes: tuple[str, ...] = ("not_found",)) -> OpenApiResponse:
    """The 404 of a write that has no path parameter but looks up what its body names, with
    the codes it answers (`patron_not_found` says it was the reader that was not found)."""
    names = ", ".join(f"`{code}`" for code in codes)
    return OpenApiResponse(
        ErrorSerializer, description=f"{description} ({names})." if names else f"{description}."
    )


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
