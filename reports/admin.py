from django.contrib import admin

from reports.models import Letterhead


@admin.register(Letterhead)
class LetterheadAdmin(admin.ModelAdmin):
    """The kop surat of official documents: one row. Reports themselves are not in the
    admin: the administrator configures, but does not read intelligence."""

    list_display = ("government", "agency", "city")

    def has_add_permission(self, request):
        return super().has_add_permission(request) and not Letterhead.objects.exists()

    def has_delete_permission(self, request, obj=None):
        return False
