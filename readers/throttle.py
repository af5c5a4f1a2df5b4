"""Searches an anonymous visitor may run, counted in the cache by address as the API's
throttles are (DRF's SimpleRateThrottle), so that a script cannot flood the database through the
public catalogue. The address is the one sign-in lockouts use (accounts.lockouts), which knows
the reverse proxies in front of the server."""

from django.conf import settings
from rest_framework.throttling import SimpleRateThrottle

from accounts.lockouts import client_address


class CatalogueSearchThrottle(SimpleRateThrottle):
    scope = "catalogue_search"

    def get_rate(self):
        return settings.CATALOGUE_SEARCH_RATE

    def get_cache_key(self, request, view):
        return self.cache_format % {"scope": self.scope, "ident": client_address(request)}


def search_allowed(request) -> tuple[bool, int]:
    """Whether this search may run now and, when not, the seconds until it may."""
    throttle = CatalogueSearchThrottle()
    if throttle.allow_request(request, None):
        return True, 0
    return False, int(throttle.wait() or 1) + 1
