"""What the readers' side keeps of its own: which sites let signed-in readers lend themselves
volumes (自助借书). Everything else a reader does is the desk's data (circulation)."""

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords

from collections_app.models import Library, Site


class SelfServicePoint(models.Model):
    """Self-service at one site: off unless a county librarian turned it on (no row is off).

    Written only by readers.services.self_service_set, which records who and when; the model's
    history keeps every switch. `poster_version` is signed into the site's QR poster: turning
    self-service on again makes a new poster and voids the old ones."""

    library = models.ForeignKey(
        Library, verbose_name=_("图书馆"), on_delete=models.PROTECT, related_name="+"
    )
    site = models.OneToOneField(
        Site, verbose_name=_("站点"), on_delete=models.CASCADE, related_name="self_service"
    )
    enabled = models.BooleanField(_("允许自助借书"), default=False)
    poster_version = models.PositiveIntegerField(_("海报版本"), default=0)
    changed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("设置人"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    changed_at = models.DateTimeField(_("设置时间"), null=True, blank=True)
    history = HistoricalRecords()

    SCOPE_SITES = ("site",)

    class Meta:
        verbose_name = _("自助借书站点")
        verbose_name_plural = _("自助借书站点")
        ordering = ["library_id", "site_id"]

    def __str__(self):
        return str(self.site)
