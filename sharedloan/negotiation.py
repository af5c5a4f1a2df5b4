"""Whether a request wants JSON: the one answer every page with a scripted form uses.

The pages' scripts (static/js/desk.js, receiving.js, scan.js) post with
`Accept: application/json`; without JavaScript the same form posts as a browser does and gets a
page (or a message and a redirect) back.
"""


def wants_json(request) -> bool:
    accept = request.headers.get("Accept", "")
    return "application/json" in accept or request.headers.get("X-Requested-With") == "fetch"
