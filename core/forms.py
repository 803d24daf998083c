from django import forms
from django.utils.html import escape
from django.utils.safestring import mark_safe
from django.utils.translation import gettext_lazy as _

ALL = _("all")


class FilterForm(forms.Form):
    """The filters of a list page, read from the query string.

    A value that does not fit (an unknown choice, a malformed number) is dropped, never an
    error page: the list is then simply not filtered by it. Subclasses declare their fields
    (by default each one filters the field of the same name) and may override ``apply``;
    ``templates/_filters.html`` renders any of them."""

    def __init__(self, data=None, **kwargs):
        super().__init__(data if data is not None else {}, **kwargs)
        self.full_clean()
        self.values = {name: value for name, value in self.cleaned_data.items() if value not in ("", None)}
        self._errors = forms.utils.ErrorDict()  # nothing to show: a bad filter is ignored

    @property
    def selected(self) -> dict:
        """The filters in force, as the strings of the query string."""
        return {name: str(self.data[name]) for name in self.values if name in self.data}

    def apply(self, queryset):
        return queryset.filter(**self.values)


def _attrs(attrs: dict) -> str:
    """Attributes as Django's ``attrs.html`` writes them: True bare, False left out."""
    return "".join(
        f" {escape(name)}" if value is True else f' {escape(name)}="{escape(value)}"'
        for name, value in attrs.items()
        if value is not False
    )


class QuickSelect(forms.Select):
    """A select written in Python: the HTML of Django's ``select.html`` (without option
    groups, which filters do not use), without rendering a template per option and
    attribute. A list page draws several on every request."""

    def render(self, name, value, attrs=None, renderer=None):
        widget = self.get_context(name, value, attrs)["widget"]
        if any(group_name for group_name, _choices, _index in widget["optgroups"]):
            return super().render(name, value, attrs, renderer)
        # Each option as select_option.html writes it (its file's last line break included).
        options = "".join(
            f'\n  <option value="{escape(o["value"])}"{_attrs(o["attrs"])}>{escape(o["label"])}</option>\n'
            for _group, choices, _index in widget["optgroups"]
            for o in choices
        )
        return mark_safe(f'<select name="{escape(name)}"{_attrs(widget["attrs"])}>{options}\n</select>')  # noqa: S308 - every value is escaped


def choice_filter(label, choices) -> forms.ChoiceField:
    return forms.ChoiceField(label=label, choices=[("", ALL), *choices], required=False, widget=QuickSelect)
