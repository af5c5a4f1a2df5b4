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
        assert {"400", "401", "403", "404", "409", "422", "429"} <= set(operation["responses"])


def test_every_error_answer_is_the_error_component(schema):
    error = {"$ref": "#/components/schemas/Error"}
    assert {"code", "message"} <= set(schema["components"]["schemas"]["Error"]["required"])
    for path, method, operation in operations(schema):
        assert {"401", "403", "429"} <= set(operation["responses"]), (method, path)
        for code, response in operation["responses"].items():
            if code.startswith("4"):
                assert response["content"]["application/json"]["schema"] == error or (
                    code not in ("401", "403", "422", "429")
                ), (method, path, code)
        has_path = "{" in path
        assert ("404" in operation["responses"]) >= has_path, (method, path)
