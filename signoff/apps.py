from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class SignoffConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "signoff"
    verbose_name = _("月度审核")

    def ready(self) -> None:
        # Imported here, as Django requires: apps.py is loaded before the models these modules import.
        from indicators.assessment.scoring import PUBLISH_NOTES
        from indicators.dashboards.panels import DASHBOARD_PANELS
        from signoff.panels import assessment_december, dashboard_progress

        # indicators sits below signoff and never imports it: the dashboards show 已审定 X/Y and the
        # assessment page each county's December sign-off through these registries.
        if dashboard_progress not in DASHBOARD_PANELS:
            DASHBOARD_PANELS.append(dashboard_progress)
        if assessment_december not in PUBLISH_NOTES:
            PUBLISH_NOTES.append(assessment_december)
