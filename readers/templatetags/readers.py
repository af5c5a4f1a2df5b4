from django import template

register = template.Library()


@register.simple_tag(takes_context=True)
def query_with(context, key, value):
    """This page's query string with `key` set to `value` (a facet or a page changes; a new
    facet starts again on page 1)."""
    params = context["request"].GET.copy()
    params[key] = str(value)
    if key != "page":
        params.pop("page", None)
    return params.urlencode()


@register.simple_tag(takes_context=True)
def query_without(context, key):
    params = context["request"].GET.copy()
    params.pop(key, None)
    params.pop("page", None)
    return params.urlencode()
