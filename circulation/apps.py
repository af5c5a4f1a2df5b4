from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CirculationConfig(AppConfig):
    name = "circulation"
    verbose_name = _("流通")

    def ready(self):
        # Collections may not import circulation; circulation tells the transfer receipt which
        # volumes its holds keep in place, and traps the copies arriving where a reader waits.
        from circulation.services.holds import hold_trap_on_receipt, holds_refuse_extra_receipt
        from collections_app.services.transfers import (
            register_arrival_hook,
            register_extra_receipt_check,
        )

        register_extra_receipt_check(holds_refuse_extra_receipt)
        register_arrival_hook(hold_trap_on_receipt)
