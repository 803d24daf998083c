from django import forms
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


def choice_filter(label, choices) -> forms.ChoiceField:
    return forms.ChoiceField(label=label, choices=[("", ALL), *choices], required=False)
