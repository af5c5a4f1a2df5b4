"""A walk of the code: an item's status, place and history are written by one function
(collections_app/services/items.py), and nothing else writes them."""

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
THE_DOOR = "collections_app/services/items.py"

WRITES = re.compile(
    r"(?<!class )ItemEvent\(|ItemEvent\.objects\.(create|bulk_create)"
    r"|\bitem\.(status|current_site|current_site_id|display|box)\s*=[^=]"
    r"|Item\.objects[^#\n]*\.update\([^)]*\b(status|current_site|display|box)\w*="
    r"|update_one\(\s*Item\b"
)


def _sources():
    for path in sorted(ROOT.glob("**/*.py")):
        relative = path.relative_to(ROOT).as_posix()
        if relative.startswith((".venv/", "bench/")) or "/tests/" in relative:
            continue
        if "/migrations/" in relative or relative == THE_DOOR:
            continue
        yield relative, path.read_text(encoding="utf-8")


def test_only_item_transition_writes_an_items_status_place_or_history():
    offenders = [
        f"{relative}:{number}: {line.strip()}"
        for relative, text in _sources()
        for number, line in enumerate(text.splitlines(), 1)
        if WRITES.search(line)
    ]
    assert not offenders, "\n".join(offenders)


def test_the_retired_history_helpers_are_gone():
    assert not (ROOT / "collections_app/services/history.py").exists()
    assert not [relative for relative, text in _sources() if "item_events_record" in text]
