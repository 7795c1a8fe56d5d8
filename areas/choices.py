from django.db import models
from django.utils.translation import gettext_lazy as _


class AreaLevel(models.TextChoices):
    CITY = "市", _("市")
    COUNTY = "县", _("县")
    TOWNSHIP = "乡镇", _("乡镇")
    VILLAGE = "村", _("村")
