"""Every answer an API test gets is one the schema documents: its status code for that operation,
and its content type for that status. Schemathesis sends what it generates; the API tests send
what the rules need (a refused checkout, a failed job, a throttled token), so between them
every status code the API really gives is held against /api/schema/.

A test module takes part by importing the fixture:

    from sharedloan.tests.api_contract import answers_keep_the_schema  # noqa: F401
"""

import re
from functools import cache

import pytest
from rest_framework.test import APIClient


@cache
def documented_operations() -> tuple:
    """(path regex, number of path parameters, {method: operation}) for each schema path,
    literal paths first so that /holds/trap/ is not read as /holds/{id}/."""
    from drf_spectacular.generators import SchemaGenerator

    schema = SchemaGenerator().get_schema(request=None, public=True)
    paths = []
    for path, item in schema["paths"].items():
        segments = [
            "[^/]+" if segment.startswith("{") else re.escape(segment)
            for segment in path.split("/")
        ]
        paths.append((re.compile("^" + "/".join(segments) + "$"), path.count("{"), item))
    return tuple(sorted(paths, key=lambda entry: entry[1]))


def undocumented(method: str, path: str, response) -> str | None:
    """Why the answer is not in the schema, or None when it is (or the request named no
    operation: an unknown address, a method the path does not take)."""
    for regex, _params, item in documented_operations():
        if not regex.match(path):
            continue
        operation = item.get(method.lower())
        if operation is None:
            return None
        responses = operation["responses"]
        code = str(response.status_code)
        if code not in responses:
            return f"{method} {path}: {code} is not documented (only {sorted(responses)})"
        content_type = response.get("Content-Type", "").split(";")[0].strip()
        documented = responses[code].get("content", {})
        if response.content and documented and content_type not in documented:
            return f"{method} {path}: {code} as {content_type}, documented as {list(documented)}"
        return None
    return None


@pytest.fixture(autouse=True)
def answers_keep_the_schema(monkeypatch):
    seen = []
    original = APIClient.request

    def checked(self, **environ):
        response = original(self, **environ)
        path = environ.get("PATH_INFO", "")
        # A server error is a bug of its own (schemathesis looks for them), or a test's.
        if path.startswith("/api/v1/") and response.status_code < 500:
            problem = undocumented(environ.get("REQUEST_METHOD", "GET"), path, response)
            if problem:
                seen.append(problem)
        return response

    monkeypatch.setattr(APIClient, "request", checked)
    yield
    assert not seen, "\n".join(seen)
