from django import forms
from django.contrib.auth.forms import AuthenticationForm
from django.contrib.auth.models import User
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from .passwords import EXPIRED_MESSAGE, InitialPasswordExpired, initial_password_check


class SignInForm(AuthenticationForm):
    # One message for an unknown username, a wrong password and a deactivated account, matching
    # the API's, so that neither tells anyone which usernames exist.
    error_messages = {
        **AuthenticationForm.error_messages,
        "invalid_login": _("The username or password is not correct."),
        "inactive": _("The username or password is not correct."),
        "initial_password_expired": EXPIRED_MESSAGE,
    }

    def confirm_login_allowed(self, user: User) -> None:
        super().confirm_login_allowed(user)
        # Said only to someone who typed the right password, so it tells a stranger nothing.
        try:
            initial_password_check(user=user, allow_pending=True)
        except InitialPasswordExpired:
            raise ValidationError(self.error_messages["initial_password_expired"],
                                  code="initial_password_expired") from None


class SecondFactorCodeForm(forms.Form):
    code = forms.CharField(label=_("Code"), max_length=32, strip=True)

