"""The OpenAPI schema that integrators rely on generates cleanly and validates."""

import pytest
from django.core.management import call_command


@pytest.mark.django_db
def test_the_openapi_schema_validates_without_warnings(tmp_path):
    out = tmp_path / "schema.yml"
    call_command("spectacular", "--validate", "--fail-on-warn", "--file", str(out))
    text = out.read_text(encoding="utf-8")
    assert "/api/v1/items/{barcode}/" in text
    assert "/api/v1/transfers/" in text


@pytest.fixture
def schema(db):
    from drf_spectacular.generators import SchemaGenerator

    return SchemaGenerator().get_schema(request=None, public=True)


def operations(schema):
    for path, item in schema["paths"].items():
        for method, operation in item.items():
            yield path, method.upper(), operation


def test_every_write_documents_the_idempotency_key_and_its_errors(schema):
    writes = [op for op in operations(schema) if op[1] in ("POST", "PUT", "PATCH", "DELETE")]
    assert writes
    for path, method, operation in writes:
        headers = [p["name"] for p in operation.get("parameters", []) if p["in"] == "header"]
        assert "Idempotency-Key" in headers, (method, path)
        assert {"400", "401", "403", "422", "429"} <= set(operation["responses"])
        refusable = path != "/api/v1/consignments/{id}/manifest/"
        assert ("409" in operation["responses"]) == refusable, (method, path)


# Writes without a path parameter that look up what their body names, and so can answer 404.
WRITES_THAT_LOOK_UP = {
    ("POST", "/api/v1/circulation/checkout/"),
    ("POST", "/api/v1/circulation/return/"),
    ("POST", "/api/v1/circulation/renew/"),
    ("POST", "/api/v1/holds/"),
    ("POST", "/api/v1/holds/trap/"),
}


def test_a_write_documents_404_only_where_it_looks_something_up(schema):
    for path, method, operation in operations(schema):
        if method in ("POST", "PUT", "PATCH", "DELETE"):
            looks_up = "{" in path or (method, path) in WRITES_THAT_LOOK_UP
            assert ("404" in operation["responses"]) == looks_up, (method, path)


def test_every_operation_documents_406_and_every_body_415(schema):
    for path, method, operation in operations(schema):
        assert "406" in operation["responses"], (method, path)
        assert ("415" in operation["responses"]) == ("requestBody" in operation), (method, path)


def test_every_error_answer_is_the_error_component(schema):
    error = {"$ref": "#/components/schemas/Error"}
    assert {"code", "message"} <= set(schema["components"]["schemas"]["Error"]["required"])
    for path, method, operation in operations(schema):
        assert {"401", "406", "429"} <= set(operation["responses"]), (method, path)
        is_write = method in ("POST", "PUT", "PATCH", "DELETE")
        # A read is never refused with 403: what the caller may not see answers 404.
        assert ("403" in operation["responses"]) == is_write, (method, path)
        for code, response in operation["responses"].items():
            if code.startswith("4"):
                assert response["content"]["application/json"]["schema"] == error or (
                    code not in ("401", "403", "422", "429")
                ), (method, path, code)
        has_path = "{" in path
        assert ("404" in operation["responses"]) >= has_path, (method, path)


def _service_trees():
    """The parsed services and API views whose refusals a client can meet, by path."""
    import ast
    from pathlib import Path

    from django.conf import settings

    base = Path(settings.BASE_DIR)
    paths = [
        *base.glob("collections_app/services/*.py"),
        *base.glob("circulation/services/*.py"),
        base / "collections_app/api.py",
        base / "circulation/api.py",
    ]
    return {
        str(path.relative_to(base)): ast.parse(path.read_text("utf-8")) for path in sorted(paths)
    }


def _calls(tree, *names):
    import ast

    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and getattr(node.func, "id", None) in names:
            yield node


def _refusal_codes() -> set[str]:
    """Every code a service or an API view refuses with: `code=` of a Refused or NotFound, the
    third field of a Problem, and what the `…_code` helpers return."""
    import ast

    codes = set()
    for tree in _service_trees().values():
        for call in _calls(tree, "Refused", "Problem", "NotFound"):
            values = [keyword.value for keyword in call.keywords if keyword.arg == "code"]
            if call.func.id == "Problem" and len(call.args) > 2:
                values.append(call.args[2])
            codes |= {value.value for value in values if isinstance(value, ast.Constant)}
        for node in ast.walk(tree):
            if isinstance(node, ast.FunctionDef) and node.name.endswith("_code"):
                codes |= {
                    ret.value.value
                    for ret in ast.walk(node)
                    if isinstance(ret, ast.Return) and isinstance(ret.value, ast.Constant)
                }
    return codes


def test_every_refusal_code_of_every_service_is_documented(schema):
    import re
    from pathlib import Path

    from django.conf import settings

    from sharedloan.api_schema import REFUSAL_CODES

    raised = _refusal_codes()
    assert {"overdue_block", "transfer_not_draft", "hold_not_active"} <= raised
    described = schema["components"]["schemas"]["Error"]["properties"]["code"]["description"]
    assert {code for code in raised if f"`{code}`" not in described} == set()
    # Nothing documented that no service says any more.
    assert raised >= REFUSAL_CODES, REFUSAL_CODES - raised
    readme = (Path(settings.BASE_DIR) / "README.md").read_text("utf-8")
    named = set(re.findall(r"`([a-z]+_[a-z_]+)`", readme.split("## API")[1].split("```")[0]))
    assert {"item_on_loan", "renewal_limit", "transfer_not_draft"} <= named
    assert named - {"read_only_token"} <= raised, named - raised


def test_no_service_refuses_without_naming_its_rule():
    """`Refused(...)` without a code answers the catch-all `refused`: every refusal of the
    services and API views names its rule instead."""
    unnamed = [
        f"{path}:{call.lineno}"
        for path, tree in _service_trees().items()
        for call in _calls(tree, "Refused")
        if not any(keyword.arg == "code" for keyword in call.keywords)
    ]
    assert unnamed == []
