"""The page behind a staff invitation's link: the invited person chooses their password (F-A2)."""

from django import forms
from django.contrib import messages
from django.contrib.auth.password_validation import password_validators_help_text_html, validate_password
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _

from accounts import invitations
from cashback.errors import DomainError, form_error_from
from cashback.forms import GuardedForm


class ChoosePasswordForm(GuardedForm):
    password1 = forms.CharField(
        label="New password", widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}), strip=False
    )
    password2 = forms.CharField(
        label="New password (again)", widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}), strip=False
    )

    def __init__(self, *args, user=None, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.user = user
        self.fields["password1"].help_text = password_validators_help_text_html()

    def clean(self) -> dict:
        data = super().clean() or {}
        first, second = data.get("password1"), data.get("password2")
        if first and second and first != second:
            self.add_error("password2", _("The two passwords differ."))
        elif first:
            try:
                validate_password(first, self.user)
            except forms.ValidationError as error:
                self.add_error("password1", error)
        return data


def invitation_accept(request: HttpRequest, token: str) -> HttpResponse:
    try:
        invitation = invitations.invitation_by_token(token=token)
    except DomainError as error:
        return render(request, "accounts/invitation_invalid.html", {"message": error.message}, status=error.http_status)
    form = ChoosePasswordForm(request.POST or None, user=invitation.user)
    if request.method == "POST" and form.is_valid():
        try:
            invitations.invitation_accept(token=token, password=form.cleaned_data["password1"])
        except DomainError as error:
            form_error_from(form, error)
        else:
            messages.success(request, _("Your password is set. Log in with it now."))
            return redirect("account_login")
    status = 400 if request.method == "POST" else 200
    return render(request, "accounts/invitation_accept.html", {"form": form, "person": invitation.user}, status=status)
