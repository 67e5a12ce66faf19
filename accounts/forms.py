from django import forms
from django.contrib.auth.forms import AuthenticationForm
from django.utils.translation import gettext_lazy as _


class SignInForm(AuthenticationForm):
    # One message for an unknown username, a wrong password and a deactivated account, matching
    # the API's, so that neither tells anyone which usernames exist.
    error_messages = {
        **AuthenticationForm.error_messages,
        "invalid_login": _("The username or password is not correct."),
        "inactive": _("The username or password is not correct."),
    }


class SecondFactorCodeForm(forms.Form):
    code = forms.CharField(label=_("Code"), max_length=32, strip=True)


class AgencyMfaRequirementForm(forms.Form):
    mfa_required = forms.BooleanField(label=_("Every member of this agency must use a second factor"), required=False)
