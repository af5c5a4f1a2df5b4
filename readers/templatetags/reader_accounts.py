"""The signed-in reader on the catalogue's pages: the sign-in slot of the header and the hold
block of a title page, without the catalogue's views having to look the reader up."""

from django import template

from readers import accounts, selectors
from readers.forms import HoldPlaceForm

register = template.Library()


@register.inclusion_tag("readers/account/_slot.html", takes_context=True)
def reader_slot(context):
    request, library = context["request"], context.get("library")
    reader = accounts.current_reader(request, library) if library is not None else None
    return {"library": library, "reader": reader, "request": request}


@register.inclusion_tag("readers/account/_hold_form.html", takes_context=True)
def reader_hold_form(context):
    request, library, title = context["request"], context["library"], context["title"]
    reader = accounts.current_reader(request, library)
    ctx = {"library": library, "title": title, "reader": reader, "request": request}
    if reader is not None:
        ctx["hold"] = accounts.open_hold_for(reader, title)
        sites = selectors.public_sites(library)
        home = context.get("home") or reader.home_site
        ctx["form"] = HoldPlaceForm(sites=sites, initial={"pickup_site": home.pk})
        ctx["csrf_token"] = context.get("csrf_token")
        ctx["messages"] = context.get("messages")
    return ctx
