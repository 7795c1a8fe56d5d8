from urllib.parse import quote, unquote

from django.urls import path, register_converter

from households import views, views_events


class RecordCodeConverter:
    """A record code in a path. Codes are URL-safe ASCII (validators.RECORD_CODE_RE), for which this
    changes nothing; any other code that ever reached a page (``0/``) is percent-encoded whole, so
    reversing it cannot fail and the record stays reachable (to cancel or correct it)."""

    regex = "[^/]+"

    def to_python(self, value: str) -> str:
        return unquote(value)

    def to_url(self, value: str) -> str:
        return quote(str(value), safe="")


register_converter(RecordCodeConverter, "code")

urlpatterns = [
    # Township workspace. The fixed paths come before the household codes they could shadow.
    path("households/", views.household_list, name="household_list"),
    path("households/new/", views.household_create, name="household_create"),
    path("households/validate-id/", views.validate_id, name="household_validate_id"),
    path("households/persons/<int:pk>/employment/", views.person_employment, name="person_employment"),
    path("households/<code:code>/", views.household_detail, name="household_detail"),
    path("households/<code:code>/edit/", views.household_edit, name="household_edit"),
    path("households/<code:code>/persons/new/", views.person_create, name="person_create"),
    path("households/<code:code>/persons/<int:pk>/edit/", views.person_edit, name="person_edit"),
    path("households/<code:code>/incomes/new/", views.income_edit, name="income_create"),
    path("households/<code:code>/incomes/<int:year>/edit/", views.income_edit, name="income_edit"),
    path("households/<code:code>/grievances/new/", views.grievance_edit, name="grievance_create"),
    path("households/<code:code>/grievances/<code:grievance_code>/edit/", views.grievance_edit, name="grievance_edit"),
    path("households/<code:code>/actions/new/", views.action_edit, name="action_create"),
    path("households/<code:code>/actions/<code:action_code>/edit/", views.action_edit, name="action_edit"),
    path("households/<code:code>/actions/<code:action_code>/close/", views.action_close, name="action_close"),
    path("history/", views.history_list, name="history_list"),
    path("persons/<int:pk>/unmask/", views.person_unmask, name="person_unmask"),
]

# Household events (issue 20): each a page of households.views_events.
urlpatterns += [
    path("households/<code:code>/transfer/", views_events.household_transfer, name="household_transfer"),
    path(
        "households/<code:code>/transfer-request/",
        views_events.household_transfer_request,
        name="household_transfer_request",
    ),
    path("households/<code:code>/cancel/", views_events.household_cancel, name="household_cancel"),
    path("households/<code:code>/head/", views_events.household_change_head, name="household_change_head"),
    path("households/<code:code>/persons/<int:pk>/cancel/", views_events.person_cancel, name="person_cancel"),
    path(
        "households/<code:code>/persons/<int:pk>/correct-id/", views_events.person_correct_id, name="person_correct_id"
    ),
    path("transfers/", views_events.transfer_request_list, name="transfer_request_list"),
    path("transfers/<int:pk>/decide/", views_events.transfer_request_decide, name="transfer_request_decide"),
]
