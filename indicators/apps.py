from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class IndicatorsConfig(AppConfig):
    name = "indicators"
    verbose_name = _("指标与考核")

    def ready(self) -> None:
        # The finance / citystats / commendations templates join the households import registry.
        from households.history import CHANGE_LISTENERS

        from .imports import register_kinds
        from .services import indicators_changes_committed

        register_kinds()
        # households never imports indicators: the engine subscribes to the registry's change feed.
        if indicators_changes_committed not in CHANGE_LISTENERS:
            CHANGE_LISTENERS.append(indicators_changes_committed)
