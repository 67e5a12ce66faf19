from django import forms
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from .models import Agency, Membership, Role


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
        user = get_user_model().objects.filter(username=username, is_active=True).first()
        if user is None:
            raise ValidationError(_("No active user has this username."), code="unknown_user")
        if Membership.objects.filter(user=user, agency=self.agency).exists():
            raise ValidationError(
                _("%(username)s is already a member of this agency; change their role in the list instead."),
                code="already_member", params={"username": username},
            )
        self.user = user
        return username


class NewPersonForm(RoleForm):
    field_order = ["username", "full_name", "email", "role"]
    username = forms.CharField(
        label=_("Username"), max_length=150,
        validators=[get_user_model().username_validator],
        help_text=_("Letters, digits and @ . + - _ only."),
    )
    full_name = forms.CharField(label=_("Full name"), max_length=150)
    email = forms.EmailField(label=_("Email"))

    def clean_username(self):
        username = self.cleaned_data["username"].strip()
        if get_user_model().objects.filter(username__iexact=username).exists():
            raise ValidationError(
                _("This username is taken; if it is the same person, add them as an existing user."),
                code="username_taken",
            )
        return username

    def clean_email(self):
        email = self.cleaned_data["email"].strip()
        if get_user_model().objects.filter(email__iexact=email).exists():
            raise ValidationError(
                _("A user with this email address already exists; add them by their username."),
                code="email_taken",
            )
        return email
