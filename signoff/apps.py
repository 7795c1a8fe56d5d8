from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class SignoffConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "signoff"
    verbose_name = _("月度审核")
