from django.contrib import admin

from monev.models import Reminder


@admin.register(Reminder)
class ReminderAdmin(admin.ModelAdmin):
    """The overdue reminders the escalation job sent (read-only, append-only): which step of
    which plan or lokus (by number: no field content here), which level, when, to how many."""

    list_display = ("sent_at", "subject", "object_id", "step", "level", "started_at", "due_at", "recipients")
    list_filter = ("level", "step", "subject")
    date_hierarchy = "sent_at"
    readonly_fields = ("subject", "object_id", "step", "started_at", "level", "due_at", "recipients", "run", "sent_at")
    fields = readonly_fields

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
