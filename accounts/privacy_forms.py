"""The confirmation a person gives before their account is closed (web page and API alike)."""

from django import forms
from django.utils.translation import gettext_lazy as _

from accounts.erasure import erasure_notices
from accounts.models import User
from cashback.forms import GuardedForm

CONFIRMATION_WORD = "DELETE"


def erasure_confirmation_errors(*, user: User, password: str, confirmation: str) -> dict[str, list[str]]:
    """What is wrong with the confirmation (empty: it is the person, and they mean it)."""
    errors: dict[str, list[str]] = {}
    if not password or not user.check_password(password):
        errors["password"] = ["That is not your password."]
    if confirmation.strip() != CONFIRMATION_WORD:
        errors["confirmation"] = [f"Type {CONFIRMATION_WORD} in capitals to confirm."]
    return errors


class ErasureForm(GuardedForm):
    password = forms.CharField(
        label=_("Your password"), strip=False, widget=forms.PasswordInput(attrs={"autocomplete": "current-password"})
    )
    confirmation = forms.CharField(
        label=f"Type {CONFIRMATION_WORD} to confirm",
        max_length=20,
        widget=forms.TextInput(attrs={"autocomplete": "off", "autocapitalize": "characters", "spellcheck": "false"}),
    )

    def __init__(self, *args, user: User, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.user = user
        # What closing loses (points forfeited, ...): each must be ticked, or the account stays open.
        self.notices = erasure_notices(user=user)
        if self.notices:
            self.fields["acknowledge"] = forms.MultipleChoiceField(
                label=_("I understand that"),
                choices=[(notice.code, notice.message) for notice in self.notices],
                widget=forms.CheckboxSelectMultiple,
                required=False,
            )

    def clean(self) -> dict:
        cleaned = super().clean() or {}
        if not self.errors:
            for field, messages in erasure_confirmation_errors(
                user=self.user, password=cleaned.get("password", ""), confirmation=cleaned.get("confirmation", "")
            ).items():
                for message in messages:
                    self.add_error(field, message)
        ticked = set(cleaned.get("acknowledge") or ())
        if any(notice.code not in ticked for notice in self.notices):
            self.add_error("acknowledge", _("Tick each box to confirm that you understand what you lose."))
        return cleaned
