from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CirculationConfig(AppConfig):
    name = "circulation"
    verbose_name = _("流通")

    def ready(self):
        # Collections may not import circulation; circulation tells the transfer receipt which
        # volumes its holds keep in place.
        from circulation.services.holds import holds_refuse_extra_receipt
        from collections_app.services.transfers import register_extra_receipt_check

        register_extra_receipt_check(holds_refuse_extra_receipt)
