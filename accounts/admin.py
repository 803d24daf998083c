from axes.admin import AccessAttemptAdmin, AccessFailureLogAdmin
from axes.models import AccessAttempt, AccessFailureLog
from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.contrib.auth.forms import AdminUserCreationForm, UserChangeForm
from django.utils import formats, timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from accounts import security, services
from accounts.enums import MailStatus
from accounts.models import Agency, OutgoingMail, Qualification, RolePolicy, SubDivision, User

admin.site.site_header = _("Lokus administration")
admin.site.site_title = _("Lokus administration")
admin.site.index_title = _("Configure people, roles and reference data")


class UserCreationForm(AdminUserCreationForm):
    class Meta(AdminUserCreationForm.Meta):
        model = User
        fields = ("username", "full_name")


class UserEditForm(UserChangeForm):
    class Meta(UserChangeForm.Meta):
        model = User


@admin.register(User)
class UserAdmin(DjangoUserAdmin):
    form = UserEditForm
    add_form = UserCreationForm
    list_display = ("username", "full_name", "nip", "position", "sub_division", "agency", "role_list", "is_active")
    list_filter = ("groups", "sub_division", "agency__kind", "is_active", "is_staff")
    search_fields = ("username", "full_name", "nip", "email", "position", "phone")
    ordering = ("full_name",)
    filter_horizontal = ("groups", "qualifications")
    autocomplete_fields = ("agency",)
    fieldsets = (
        (None, {"fields": ("username", "password")}),
        (_("Identity"), {"fields": ("full_name", "nip", "position", "email", "phone")}),
        (_("Unit"), {"fields": ("sub_division", "agency")}),
        (_("Roles"), {"fields": ("groups", "is_active", "is_staff", "is_superuser")}),
        (_("Qualifications (Kualifikasi Pelaksana)"), {"fields": ("qualifications",)}),
        (_("Important dates"), {"fields": ("last_login", "date_joined")}),
    )
    add_fieldsets = (
        (
            None,
            {
                "classes": ("wide",),
                "fields": ("username", "full_name", "usable_password", "password1", "password2"),
            },
        ),
    )
    readonly_fields = ("last_login", "date_joined")
    actions = ["reset_two_factor", "end_sessions"]

    def get_readonly_fields(self, request, obj=None):
        readonly = super().get_readonly_fields(request, obj)
        if not request.user.is_superuser:
            # The Administrator role manages people and roles; only a superuser makes one.
            readonly = (*readonly, "is_superuser")
        return readonly

    def has_change_permission(self, request, obj=None):
        # Nor may it take over a superuser's account (password, e-mail, deactivation).
        if obj is not None and obj.is_superuser and not request.user.is_superuser:
            return False
        return super().has_change_permission(request, obj)

    def save_model(self, request, obj, form, change):
        super().save_model(request, obj, form, change)
        if change and "is_active" in form.changed_data and not obj.is_active:
            # Deactivation ends the user's sessions at once, on every device.
            services.user_end_sessions(obj)

    @staticmethod
    def _not_above(request, queryset):
        """Only a superuser acts on superusers."""
        return queryset if request.user.is_superuser else queryset.filter(is_superuser=False)

    @admin.action(description=_("Reset two-factor sign-in (lost phone)"))
    def reset_two_factor(self, request, queryset):
        queryset = self._not_above(request, queryset)
        for user in queryset:
            services.user_reset_two_factor(user)
        self.message_user(request, _("Two-factor sign-in was reset for %(n)s user(s).") % {"n": queryset.count()})

    @admin.action(description=_("End all sessions"))
    def end_sessions(self, request, queryset):
        queryset = self._not_above(request, queryset)
        for user in queryset:
            services.user_end_sessions(user)
        self.message_user(request, _("All sessions ended for %(n)s user(s).") % {"n": queryset.count()})

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("sub_division", "agency").prefetch_related("groups")

    @admin.display(description=_("roles"))
    def role_list(self, obj: User) -> str:
        return ", ".join(sorted(group.name for group in obj.groups.all()))


@admin.register(Agency)
class AgencyAdmin(admin.ModelAdmin):
    list_display = ("name", "kind", "phone", "is_active")
    list_filter = ("kind", "is_active")
    search_fields = ("name", "address")


@admin.register(SubDivision)
class SubDivisionAdmin(admin.ModelAdmin):
    list_display = ("name", "short_name", "code")
    search_fields = ("name", "short_name")


@admin.register(Qualification)
class QualificationAdmin(admin.ModelAdmin):
    list_display = ("name", "order")
    list_editable = ("order",)
    search_fields = ("name", "description")


@admin.register(RolePolicy)
class RolePolicyAdmin(admin.ModelAdmin):
    list_display = ("group", "requires_two_factor", "idle_timeout_minutes")
    list_editable = ("requires_two_factor", "idle_timeout_minutes")

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(OutgoingMail)
class OutgoingMailAdmin(admin.ModelAdmin):
    """The e-mail copies of notifications and how their delivery went, for the administrator
    to see mail that failed after every retry and send it again. Read-only; the subject and
    the text are not shown: they name plans and reports, which are field content."""

    list_display = (
        "created_at",
        "recipient",
        "address",
        "is_urgent",
        "status",
        "attempts",
        "next_attempt_at",
        "sent_at",
    )
    list_filter = ("status", "is_urgent")
    search_fields = ("address", "recipient__username", "recipient__full_name")
    list_select_related = ("recipient",)
    fields = (
        "recipient",
        "address",
        "is_urgent",
        "status",
        "attempts",
        "last_error",
        "created_at",
        "next_attempt_at",
        "sent_at",
    )
    readonly_fields = fields
    actions = ["send_again"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def has_send_again_permission(self, request):
        return request.user.has_perm("accounts.change_outgoingmail")

    @admin.action(description=pgettext_lazy("e-mail", "Send again"), permissions=["send_again"])
    def send_again(self, request, queryset):
        failed = list(queryset.filter(status=MailStatus.FAILED).values_list("pk", flat=True))
        queued = services.mail_send_again(failed)
        self.message_user(request, _("%(n)s failed e-mail(s) queued to be sent again.") % {"n": queued})


class SignInLockoutAdmin(AccessAttemptAdmin):
    """django-axes' list of lockouts, whose status also knows the account-wide row (no address,
    "(every address)" as the browser): its limit is 20 failures an hour, not 5. Deleting a row
    lifts that lockout."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # The "clean up expired attempts" action with this project's handler: axes' own would
        # expire every lockout after the shortest cool-off (15 minutes), the 2- and 24-hour and
        # the account-wide ones too.
        self.handler = security.AxesHandler()

    @admin.display(description=_("status"))
    def status(self, obj: AccessAttempt) -> str:
        if not security.is_account_wide(obj):
            return super().status(obj)
        if obj.failures_since_start < security.ACCOUNT_FAILURE_LIMIT:
            return _("%(n)s of %(limit)s failures from every address within an hour") % {
                "n": obj.failures_since_start,
                "limit": security.ACCOUNT_FAILURE_LIMIT,
            }
        until = obj.attempt_time + security.ACCOUNT_COOLOFF
        if until <= timezone.now():
            return _("Lockout of the whole account ended")
        return _("Whole account locked until %(time)s") % {
            "time": formats.date_format(timezone.localtime(until), "SHORT_DATETIME_FORMAT")
        }


class SignInFailureAdmin(AccessFailureLogAdmin):
    """django-axes' log of failed sign-ins, which also holds the wrong sign-in codes
    (accounts.security.record_code_failure): a column says which."""

    list_display = ("attempt_time", "kind", "ip_address", "username", "user_agent", "locked_out")

    @admin.display(description=_("what"))
    def kind(self, obj: AccessFailureLog) -> str:
        return _("wrong sign-in code") if security.is_code_failure(obj) else _("wrong password")


for model, model_admin in ((AccessAttempt, SignInLockoutAdmin), (AccessFailureLog, SignInFailureAdmin)):
    if admin.site.is_registered(model):
        admin.site.unregister(model)
    admin.site.register(model, model_admin)


def _unregister_device_admins() -> None:
    """The administrator resets a lost device from the user list; device rows hold the
    users' secrets and are not shown in the admin."""
    from django_otp.plugins.otp_static.models import StaticDevice
    from django_otp.plugins.otp_totp.models import TOTPDevice

    for model in (TOTPDevice, StaticDevice):
        if admin.site.is_registered(model):
            admin.site.unregister(model)


_unregister_device_admins()
