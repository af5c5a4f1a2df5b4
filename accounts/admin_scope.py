"""The admin reads through the same scope as the pages and the API (accounts.scope)."""

from accounts.scope import scoped


def _is_scoped(model) -> bool:
    return any(
        hasattr(model, attr) for attr in ("SCOPE_LIBRARY", "SCOPE_SITES", "SCOPE_LENDER")
    ) or any(field.name == "library" for field in model._meta.fields)


class ScopedAdminMixin:
    def get_queryset(self, request):
        return scoped(super().get_queryset(request), request.user)

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        field = super().formfield_for_foreignkey(db_field, request, **kwargs)
        if field is not None and _is_scoped(db_field.related_model):
            field.queryset = scoped(field.queryset, request.user)
        return field

    def formfield_for_manytomany(self, db_field, request, **kwargs):
        field = super().formfield_for_manytomany(db_field, request, **kwargs)
        if field is not None and _is_scoped(db_field.related_model):
            field.queryset = scoped(field.queryset, request.user)
        return field
