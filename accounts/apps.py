from django.apps import AppConfig
from django.db.models.signals import post_migrate
from django.utils.translation import gettext_lazy as _


class AccountsConfig(AppConfig):
    name = "accounts"
    verbose_name = _("People and roles")

    def ready(self) -> None:
        from accounts.roles import sync_role_permissions

        # Model permissions only exist after migrate has created them (Django does that in
        # post_migrate too), so the role -> permission mapping is applied there, every
        # time, idempotently. The groups themselves come from a data migration.
        post_migrate.connect(sync_role_permissions, dispatch_uid="accounts.sync_role_permissions")

        from django.contrib.auth.signals import user_logged_in

        from accounts.security import mark_login

        # Session bookkeeping, not workflow: start the idle/absolute clocks at sign-in.
        user_logged_in.connect(mark_login, dispatch_uid="accounts.mark_login")

        from accounts.permissions import may_administer
        from core.navigation import NavItem, register

        register(
            NavItem(
                _("Administration"),
                _("Configure people, roles, agencies, standards and reference areas."),
                "admin:index",
                may_administer,
            )
        )
