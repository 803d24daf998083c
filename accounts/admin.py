from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.contrib.auth.forms import AdminUserCreationForm, UserChangeForm
from django.utils.translation import gettext_lazy as _

from accounts.models import Agency, Qualification, SubDivision, User

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
