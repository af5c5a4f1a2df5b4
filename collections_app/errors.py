"""What a service says when the rules refuse a request.

The message is for the librarian at the desk, in plain words; `problems` lists, for bulk work,
each refused row (a barcode, a file row) with its reason, so that nothing is half written and
everything wrong is said at once.
"""

from dataclasses import dataclass

from django.utils.translation import gettext


@dataclass(frozen=True)
class Problem:
    where: str
    message: str
    # The stable name of this row's reason, where one is more specific than the refusal's own
    # (a transfer refused as a whole says for each volume whether it is on loan, elsewhere, …).
    code: str = ""

    def __str__(self):
        return gettext("%(where)s：%(message)s") % {"where": self.where, "message": self.message}


class Refused(Exception):
    """`code` is the stable, machine-readable name of the refusal that API clients branch on;
    the message is for people and is translated."""

    def __init__(self, message, problems=(), code="refused"):
        super().__init__(str(message))
        self.message = message
        self.problems = list(problems)
        self.code = code

    def __str__(self):
        lines = [str(self.message)] + [str(problem) for problem in self.problems]
        return "\n".join(lines)
