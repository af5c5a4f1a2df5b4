from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ReportsConfig(AppConfig):
    name = "reports"
    verbose_name = _("统计报表")

    def ready(self):
        # Collections may not import reports; the rotation suggestions show readers' demand
        # (holds waiting, searches that found every copy out) through this registration.
        from collections_app.demand_signals import register_demand_source
        from reports.demand import demand_moves

        register_demand_source(demand_moves)
