"""A form control named like a form property shadows it: with <input name="action"> in a form,
form.action is the control (a RadioNodeList for radios), and a scan was posted to
/[object RadioNodeList]. Scripts read a form's attributes with getAttribute() and call its
methods from HTMLFormElement.prototype."""

import re
from pathlib import Path

import pytest

SCRIPTS = sorted((Path(__file__).resolve().parents[2] / "static" / "js").glob("*.js"))
SHADOWED = re.compile(
    r"\b(?:form|\w+\.form)\.(action|method|target|enctype|encoding|elements|submit|reset|"
    r"requestSubmit|name|id|length)\b"
)


@pytest.mark.parametrize("script", SCRIPTS, ids=[path.name for path in SCRIPTS])
def test_no_script_reads_a_form_property_a_control_can_shadow(script):
    lines = [
        f"{script.name}:{number}: {line.strip()}"
        for number, line in enumerate(script.read_text().splitlines(), start=1)
        if SHADOWED.search(line) and not line.lstrip().startswith("//")
    ]
    assert lines == []
