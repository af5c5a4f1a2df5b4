from urllib.parse import urlencode

from django import template

from readers.search import field_choices

register = template.Library()


def _query(context) -> dict[str, list[str]]:
    """This page's query string as {key: [values]} in its order, read once per rendering: a
    results page asks for some fifty facet and page links."""
    cache = context.render_context
    params = cache.get("readers_query")
    if params is None:
        params = cache["readers_query"] = dict(context["request"].GET.lists())
    return params


@register.simple_tag(takes_context=True)
def query_with(context, key, value):
    """This page's query string with `key` set to `value` (a facet or a page changes; a new
    facet starts again on page 1)."""
    params = {**_query(context), key: [str(value)]}
    if key != "page":
        params.pop("page", None)
    return urlencode(params, doseq=True)


@register.simple_tag(takes_context=True)
def query_without(context, key):
    params = dict(_query(context))
    params.pop(key, None)
    params.pop("page", None)
    return urlencode(params, doseq=True)


@register.inclusion_tag("readers/_search_form.html", takes_context=True)
def catalogue_search_form(context):
    """The search box at the top of every page of a library's catalogue, its account and
    self-service pages included."""
    return {
        "library": context["library"],
        "query": context.get("query"),
        "fields": field_choices(),
    }
