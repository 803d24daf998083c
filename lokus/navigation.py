"""The lokus app's menu entries; each entry's test is a predicate of lokus/permissions.py."""

from django.utils.translation import gettext_lazy as _

from core.navigation import NavItem, register
from lokus import permissions


def register_items() -> None:
    register(
        NavItem(
            _("Report a planned activity"),
            _("SOP step 1: send Kesbangpol the information on a planned activity."),
            "lokus:plan_create",
            permissions.can_submit_plan,
        )
    )
    register(
        NavItem(
            _("Activity plans"),
            _("Plans received and their status; choose which become a lokus."),
            "lokus:plan_list",
            permissions.may_list_plans,
        )
    )
    register(
        NavItem(
            _("Calendar"),
            _("Upcoming plans by day or week, with clashes marked."),
            "lokus:plan_calendar",
            permissions.sees_all_plans,
        )
    )
    register(
        NavItem(
            _("Lokus"),
            _("Special locations: teams, field progress, time standards."),
            "lokus:list",
            permissions.oversees_lokus,
        )
    )
    register(
        NavItem(
            _("My assignments"),
            _("Lokus you are dispatched to: confirm, start, record and report."),
            "lokus:assignments",
            permissions.may_list_assignments,
        )
    )
    register(
        NavItem(
            _("Access log"),
            _("Who viewed or downloaded Terbatas and Rahasia lokus, reports and files."),
            "lokus:access_log",
            permissions.may_view_access_log,
        )
    )
