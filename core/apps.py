from django.apps import AppConfig


class CoreConfig(AppConfig):
    """Shared plumbing with no models: API and admin bases, htmx helpers, money, the spreadsheet writer."""

    name = "core"
    verbose_name = "公共组件"
