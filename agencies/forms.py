from django import forms
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from .models import Agency, Membership, Role
from .selectors import account_attachable

NOT_ATTACHABLE_MESSAGE = _(
    "This account cannot be added to your agency. Check the username; a person who already works "
    "elsewhere must first be released to your agency by the system administrator."
)


class RoleForm(forms.Form):
    # The staff table shows the role selects without visible labels; screen readers still need one.
    role = forms.ChoiceField(
        label=_("Role"), choices=Role.choices, widget=forms.Select(attrs={"aria-label": _("Role")})
    )


class AddExistingPersonForm(RoleForm):
    field_order = ["username", "role"]
    username = forms.CharField(label=_("Username"), max_length=150)

    def __init__(self, *args, agency: Agency, **kwargs):
        super().__init__(*args, **kwargs)
        self.agency = agency
        self.user = None

    def clean_username(self):
        username = self.cleaned_data["username"].strip()
        user = get_user_model().objects.filter(username=username).first()
        # Members are in the staff list already, so saying so tells the admin nothing new.
        if user is not None and Membership.objects.filter(user=user, agency=self.agency).exists():
            raise ValidationError(
                _("%(username)s is already a member of this agency; change their role in the list instead."),
                code="already_member", params={"username": username},
            )
        # One answer for an unknown username, a deactivated or superuser account and a person working
        # elsewhere: the form must not tell which accounts exist.
        if user is None or not account_attachable(user=user, agency=self.agency):
            raise ValidationError(NOT_ATTACHABLE_MESSAGE, code="not_attachable")
        self.user = user
        return username


class BreakGlassForm(forms.Form):
    break_glass = forms.BooleanField(label=_("May use break-glass"), required=False)


class NewPersonForm(RoleForm):
    field_order = ["username", "full_name", "email", "role"]
    username = forms.CharField(
        label=_("Username"), max_length=150,
        validators=[get_user_model().username_validator],
        help_text=_("Letters, digits and @ . + - _ only."),
    )
    full_name = forms.CharField(label=_("Full name"), max_length=150)
    email = forms.EmailField(label=_("Email"))

    def _untaken(self, field: str, message: str) -> str:
        """The field's value, unless an account has it already (in any case)."""
        value = self.cleaned_data[field].strip()
        if get_user_model().objects.filter(**{f"{field}__iexact": value}).exists():
            raise ValidationError(message, code=f"{field}_taken")
        return value

    def clean_username(self):
        return self._untaken("username", _("This username is taken; if it is the same person, add them as an "
                                           "existing user."))

    def clean_email(self):
        return self._untaken("email", _("A user with this email address already exists; add them by their username."))


class AgencyMfaRequirementForm(forms.Form):
    mfa_required = forms.BooleanField(label=_("Every member of this agency must use a second factor"), required=False)
