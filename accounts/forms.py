from django import forms
from django.contrib.auth.forms import AuthenticationForm
from django.core.validators import MaxLengthValidator
from django.utils.translation import gettext_lazy as _
from django.utils.translation import gettext_noop

# Django's sign-in error. Its Indonesian catalogue reads "Masukkan nama pengguna %(username)s
# dan sandi …" while %(username)s is already the field's name ("nama pengguna"), so the page
# said "nama pengguna nama pengguna". The project's catalogue (LOCALE_PATHS comes before
# Django's own) carries a translation without the repetition; naming the message here keeps
# makemessages from dropping that entry as obsolete. A test checks it is still Django's text.
SIGN_IN_ERROR = gettext_noop(
    "Please enter a correct %(username)s and password. Note that both fields may be case-sensitive."
)


class TokenForm(forms.Form):
    token = forms.CharField(
        label=_("code"),
        max_length=16,
        widget=forms.TextInput(attrs={"autocomplete": "one-time-code", "inputmode": "numeric", "autofocus": True}),
        help_text=_("The 6-digit code from your authenticator app, or one of your backup codes."),
    )

    def clean_token(self):
        return self.cleaned_data["token"].replace(" ", "").replace("-", "").strip()


class LoginForm(AuthenticationForm):
    """Django's sign-in form, which sets the username's max_length but checks it nowhere: a
    longer username reached authenticate(), and django-axes' record of the failure (255
    characters) was a server error on PostgreSQL. Now it is a field error."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["username"].validators.append(MaxLengthValidator(self.fields["username"].max_length))
