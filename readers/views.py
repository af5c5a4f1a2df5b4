from django.http import Http404


def libraries(request, **kwargs):
    raise Http404


home = search = title_detail = new_arrivals = popular = libraries
