"""The API's view-set bases: every row comes through ``accounts.access`` (the one scoping function)."""

from typing import Any

from django.db.models import Model, QuerySet
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.response import Response

from accounts.access import access_object, scope
from accounts.types import api_actor


class ScopedViewSet(viewsets.GenericViewSet):
    """Lists and single records through ``accounts.access``: ``scoped_queryset`` is the only source
    of rows, ``get_object`` answers 404 for missing and foreign records alike."""

    lookup_field = "code"
    lookup_value_regex = "[^/]+"
    output_serializer: type[serializers.ModelSerializer[Any]]
    input_serializer: type[serializers.Serializer] | None = None
    patch_serializer: type[serializers.Serializer] | None = None

    def output_model(self) -> type[Model]:
        """The resource's model, the output serializer's ``Meta.model`` (its ``objects`` is its default
        manager: the stubs type ``_default_manager`` on a model class, not ``objects``)."""
        model: type[Model] = self.output_serializer.Meta.model
        return model

    def base_queryset(self) -> QuerySet:
        """The unscoped rows of the resource; every subclass names its own."""
        return self.output_model()._default_manager.all()

    def scoped_queryset(self) -> QuerySet:
        return scope(self.base_queryset(), api_actor(self.request))

    def get_queryset(self) -> QuerySet:
        if getattr(self, "swagger_fake_view", False):  # schema generation: no user, no rows
            return self.output_model()._default_manager.none()
        return self.scoped_queryset()

    def get_serializer_class(self) -> type[serializers.BaseSerializer]:
        return self.output_serializer

    def get_object(self) -> Any:
        value = self.kwargs[self.lookup_url_kwarg or self.lookup_field]
        return access_object(self.scoped_queryset(), api_actor(self.request), **{self.lookup_field: value})

    def validated(self, serializer_class: type[serializers.Serializer]) -> dict[str, Any]:
        serializer = serializer_class(data=self.request.data, context=self.get_serializer_context())
        serializer.is_valid(raise_exception=True)
        return dict(serializer.validated_data)

    def answer(self, instance: Any, code: int = status.HTTP_200_OK) -> Response:
        """The written record as a list would show it (annotations included)."""
        fresh = self.get_queryset().get(pk=instance.pk)
        return Response(self.output_serializer(fresh, context=self.get_serializer_context()).data, status=code)


class ReadViewSet(ScopedViewSet, mixins.ListModelMixin, mixins.RetrieveModelMixin):
    pass
