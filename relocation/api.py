"""URL wiring of the REST API v1 (``/api/v1/``): routes, the token endpoint, schema and docs (the
third-party views configured for this portal: throttling, templates, CSP)."""

from typing import Any

from csp.decorators import csp_update
from django.urls import path, re_path
from django.utils.decorators import method_decorator
from drf_spectacular.utils import extend_schema, inline_serializer
from drf_spectacular.views import SpectacularAPIView, SpectacularRedocView, SpectacularSwaggerSplitView
from rest_framework import serializers
from rest_framework.exceptions import NotFound
from rest_framework.renderers import JSONRenderer
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.routers import DefaultRouter
from rest_framework.throttling import AnonRateThrottle, ScopedRateThrottle
from rest_framework.views import APIView

from accounts import api as accounts_api
from deadlines import api as deadlines_api
from households import api as households_api
from indicators import api as indicators_api
from monitoring import api as monitoring_api
from signoff import api as signoff_api


class ObtainTokenView(APIView):
    """``POST auth/token/`` with ``username``, ``password`` and, for a user with a confirmed TOTP
    device, ``otp_token``: a new API token, shown once, and when it expires (``accounts.api``).
    Throttled like a login; failures count towards the lockouts of the login page (axes, address)."""

    authentication_classes: list = []
    permission_classes: list = []
    renderer_classes = [JSONRenderer]
    throttle_scope = "auth"
    throttle_classes = [AnonRateThrottle, ScopedRateThrottle]

    @extend_schema(
        request=accounts_api.ObtainTokenSerializer,
        responses={
            200: inline_serializer("Token", {"token": serializers.CharField(), "expires": serializers.DateTimeField()})
        },
        auth=[],
    )
    def post(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return accounts_api.obtain_token(request)


class SwaggerView(SpectacularSwaggerSplitView):
    """Swagger UI from the vendored sidecar files; its init script is a separate same-origin file, so
    the page runs under the portal's CSP (no inline script)."""

    template_name = "api/swagger_ui.html"


@method_decorator(csp_update({"style-src": ["'unsafe-inline'"], "worker-src": ["blob:"]}), name="dispatch")
class RedocView(SpectacularRedocView):
    """Redoc from the vendored sidecar file, without web fonts or inline script. Redoc injects its
    styles at run time and searches in a blob worker: this page alone allows both."""

    template_name = "api/redoc.html"


class NotFoundView(APIView):
    """Any other path under ``/api/v1/`` answers a JSON 404, like a missing record."""

    permission_classes = []

    @extend_schema(exclude=True)
    def get(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        raise NotFound

    post = patch = put = delete = get


router = DefaultRouter(trailing_slash=True)
router.include_format_suffixes = False
router.register("auth/tokens", accounts_api.ApiTokenViewSet, basename="api-tokens")
router.register("areas", households_api.AreaViewSet, basename="area")
router.register("sites", households_api.SiteViewSet, basename="site")
router.register("households", households_api.HouseholdViewSet, basename="household")
router.register("persons", households_api.PersonViewSet, basename="person")
router.register("grievances", households_api.GrievanceViewSet, basename="grievance")
router.register("actions", households_api.ActionViewSet, basename="action")
router.register("indicators", indicators_api.IndicatorViewSet, basename="indicator")
router.register("indicator-values", indicators_api.IndicatorValueViewSet, basename="indicator-value")
router.register("imports", households_api.ImportViewSet, basename="import")
router.register("cases", monitoring_api.CaseViewSet, basename="case")  # issue 21
router.register("deadlines", deadlines_api.DeadlineViewSet, basename="deadline")

# Rows keyed by two values (household or county, and year) get two path segments.
income_list = households_api.IncomeViewSet.as_view({"get": "list", "post": "create"})
income_detail = households_api.IncomeViewSet.as_view({"get": "retrieve", "patch": "partial_update"})
finance_list = indicators_api.FinanceViewSet.as_view({"get": "list", "post": "create"})
finance_detail = indicators_api.FinanceViewSet.as_view({"get": "retrieve", "patch": "partial_update"})
# A village's month of the sign-off (issue 21): village code and month, then its three steps.
SIGNOFF = signoff_api.VillageMonthViewSet
signoff_month = "signoff/<str:village>/<str:month>/"

urlpatterns = [
    path("auth/token/", ObtainTokenView.as_view(), name="api-token"),
    path("incomes/", income_list, name="income-list"),
    path("incomes/<str:household>/<int:year>/", income_detail, name="income-detail"),
    path("finance/", finance_list, name="finance-list"),
    path("finance/<str:county>/<int:year>/", finance_detail, name="finance-detail"),
    path("assessments/<int:year>/", indicators_api.AssessmentView.as_view(), name="assessment-detail"),
    path("signoff/", SIGNOFF.as_view({"get": "list"}), name="signoff-list"),
    path(signoff_month, SIGNOFF.as_view({"get": "retrieve"}), name="signoff-detail"),
    path(f"{signoff_month}submit/", SIGNOFF.as_view({"post": "submit"}), name="signoff-submit"),
    path(
        f"{signoff_month}township-review/", SIGNOFF.as_view({"post": "township_review"}), name="signoff-township-review"
    ),
    path(f"{signoff_month}county-review/", SIGNOFF.as_view({"post": "county_review"}), name="signoff-county-review"),
    path("schema/", SpectacularAPIView.as_view(), name="api-schema"),
    path("docs/", SwaggerView.as_view(url_name="api-schema"), name="api-docs"),
    path("redoc/", RedocView.as_view(url_name="api-schema"), name="api-redoc"),
    *router.urls,
    re_path(r"^", NotFoundView.as_view()),
]
