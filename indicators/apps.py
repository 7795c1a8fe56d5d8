from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class IndicatorsConfig(AppConfig):
    name = "indicators"
    verbose_name = _("指标与考核")

    def ready(self) -> None:
        # Imported here, as Django requires: apps.py is loaded before the models these modules import.
        # The finance / citystats / commendations templates join the households import registry.
        from households.history import CHANGE_LISTENERS
        from households.validators import indicator_codes_register
        from indicators.assessment.scoring import PUBLISH_LISTENERS
        from indicators.assessment.tasks import assessment_report_queue
        from indicators.catalogue import CATALOGUE
        from indicators.dashboards.tasks import dashboards_warm_queue
        from indicators.engine.runs import RUN_FINISHED_LISTENERS
        from indicators.imports import register_kinds
        from indicators.services import indicators_changes_committed

        register_kinds()
        indicator_codes_register(entry.code for entry in CATALOGUE)
        # households never imports indicators: the engine subscribes to the registry's change feed.
        if indicators_changes_committed not in CHANGE_LISTENERS:
            CHANGE_LISTENERS.append(indicators_changes_committed)
        # Publishing (scoring) queues the build of the 通报 files through this listener.
        if assessment_report_queue not in PUBLISH_LISTENERS:
            PUBLISH_LISTENERS.append(assessment_report_queue)
        # A finished run warms the dashboards' cached parts (issue 22: no slow first load).
        if dashboards_warm_queue not in RUN_FINISHED_LISTENERS:
            RUN_FINISHED_LISTENERS.append(dashboards_warm_queue)
