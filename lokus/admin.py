from django.contrib import admin

from lokus.models import Kecamatan, Kelurahan, StepStandard


class KelurahanInline(admin.TabularInline):
    model = Kelurahan
    extra = 0
    fields = ("code", "name")


@admin.register(Kecamatan)
class KecamatanAdmin(admin.ModelAdmin):
    list_display = ("code", "name")
    search_fields = ("code", "name")
    inlines = [KelurahanInline]


@admin.register(Kelurahan)
class KelurahanAdmin(admin.ModelAdmin):
    list_display = ("code", "name", "kecamatan")
    list_filter = ("kecamatan",)
    search_fields = ("code", "name", "kecamatan__name")
    list_select_related = ("kecamatan",)


@admin.register(StepStandard)
class StepStandardAdmin(admin.ModelAdmin):
    """The SOP's time standards. Field content (plans, lokus, reports) is deliberately not
    in the admin: the administrator configures, but does not read intelligence."""

    list_display = ("number", "activity", "actor", "minutes")
    list_editable = ("minutes",)
    ordering = ("number",)

    def has_add_permission(self, request):
        return False  # the SOP has exactly 15 steps

    def has_delete_permission(self, request, obj=None):
        return False
