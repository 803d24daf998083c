"""``{{ value|wib:"d M Y H:i" }}``: Django's ``date`` filter in local time (WIB) that never
breaks a page. A stored value that cannot be shown (one that the conversion to WIB takes
past year 9999) is shown as "invalid date" instead of failing the whole page with
OverflowError. Validation keeps such values out (core/validators.py);
this is the defence for rows stored before it, found by ``manage.py check_dates``."""

import datetime

from django import template
from django.template.defaultfilters import date as date_filter
from django.utils import timezone
from django.utils.translation import gettext as _

register = template.Library()


@register.filter(expects_localtime=False)
def wib(value, arg=None) -> str:
    if value in (None, ""):
        return ""
    try:
        if isinstance(value, datetime.datetime) and timezone.is_aware(value):
            value = timezone.localtime(value)
        return date_filter(value, arg)
    except (OverflowError, ValueError):
        return _("invalid date")
