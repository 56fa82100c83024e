"""The staff forms of each kind of content: they validate at the door, the services write."""

from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

from cashback.forms import GuardedModelForm
from content.models import Banner, FaqEntry, Page

BODY_MAX = 50_000
MARKDOWN_HELP = (
    "Markdown: ## a section, **bold**, *italic*, [a link](/shops/), - a list. "
    "HTML is shown as text; scripts and styles never reach the page."
)


LINK_MESSAGE = "Use an address starting with https:// or a path on this site starting with /."


def validate_link(value: str) -> None:
    """A banner links to a page of ours ("/wallet/offers/") or to an http(s) address, nothing else."""
    if not value:
        return
    if value.startswith("/") and not value.startswith("//"):
        if any(ch.isspace() for ch in value):
            raise ValidationError(_("A link may not contain spaces."))
        return
    if not value.lower().startswith(("https://", "http://")):
        raise ValidationError(LINK_MESSAGE)
    try:
        forms.URLField(assume_scheme="https").clean(value)
    except ValidationError as error:
        raise ValidationError(LINK_MESSAGE) from error


class PageForm(GuardedModelForm):
    body = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 20}), max_length=BODY_MAX, help_text=MARKDOWN_HELP, strip=False
    )

    class Meta:
        model = Page
        fields = ["title", "summary", "body"]
        labels = {"summary": "Summary (shown under the title and to search engines)"}

    def clean_body(self) -> str:
        body: str = self.cleaned_data["body"]
        if not body.strip():
            raise ValidationError(_("Write the page's text."))
        return body


class PageCreateForm(PageForm):
    """A new page also gets its address, which stays once it is created (links to it must keep working)."""

    class Meta(PageForm.Meta):
        fields = ["slug", "title", "summary", "body"]
        help_texts = {"slug": "The address: /pages/<slug>/. Lower-case letters, digits and hyphens."}


class FaqEntryForm(GuardedModelForm):
    answer = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 8}), max_length=BODY_MAX, help_text=MARKDOWN_HELP, strip=False
    )
    order = forms.IntegerField(min_value=0, max_value=999, initial=0, help_text="Lower numbers come first.")

    class Meta:
        model = FaqEntry
        fields = ["question", "answer", "category", "order"]

    def clean_answer(self) -> str:
        answer: str = self.cleaned_data["answer"]
        if not answer.strip():
            raise ValidationError(_("Write the answer."))
        return answer


class _DateTimeInput(forms.DateTimeInput):
    input_type = "datetime-local"

    def __init__(self) -> None:
        super().__init__(format="%Y-%m-%dT%H:%M")


class BannerForm(GuardedModelForm):
    link = forms.CharField(
        required=False,
        max_length=300,
        validators=[validate_link],
        help_text="Optional: a path on this site (/wallet/offers/) or an https:// address.",
    )
    starts_at = forms.DateTimeField(widget=_DateTimeInput(), label="Shown from")
    ends_at = forms.DateTimeField(widget=_DateTimeInput(), label="Shown until", required=False)

    class Meta:
        model = Banner
        fields = ["text", "link", "placement", "starts_at", "ends_at"]
        labels = {"placement": "Where it is shown"}

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        starts_at, ends_at = cleaned.get("starts_at"), cleaned.get("ends_at")
        if starts_at and ends_at and ends_at <= starts_at:
            self.add_error("ends_at", _("The end must come after the start."))
        return cleaned


FORMS: dict[str, tuple[type[GuardedModelForm], type[GuardedModelForm]]] = {
    # kind slug: (the form that creates an item, the form that edits its draft)
    "pages": (PageCreateForm, PageForm),
    "faq": (FaqEntryForm, FaqEntryForm),
    "banners": (BannerForm, BannerForm),
}
