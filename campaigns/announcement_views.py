"""Staff announcements at /staff/announcements/ (marketing and administrators): a segment, the size of
its audience before sending, sending in batches with progress."""

from django import forms
from django.contrib import messages
from django.core.paginator import Paginator
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import ngettext

from accounts.decorators import staff_required
from accounts.models import User
from accounts.request_types import AuthenticatedHttpRequest
from campaigns.announcements import Segment, announcement_send, audience
from campaigns.models import Announcement, Tier
from cashback.forms import GuardedForm
from merchants.models import Merchant

PERMISSION = "campaigns.add_announcement"


class AnnouncementForm(GuardedForm):
    title = forms.CharField(max_length=120)
    body = forms.CharField(max_length=1000, widget=forms.Textarea({"rows": 4}))
    city = forms.CharField(max_length=100, required=False)
    gender = forms.ChoiceField(choices=[("", "Any"), *User.Gender.choices], required=False)
    born_from = forms.IntegerField(label="Born in or after", min_value=1900, max_value=2100, required=False)
    born_to = forms.IntegerField(label="Born in or before", min_value=1900, max_value=2100, required=False)
    tier = forms.ModelChoiceField(queryset=Tier.objects.order_by("rank"), required=False, empty_label="Any tier")
    merchant = forms.ModelChoiceField(
        label="Customers of", queryset=Merchant.objects.order_by("display_name"), required=False, empty_label="Anyone"
    )

    def segment(self) -> Segment:
        data = self.cleaned_data
        return Segment(
            city=(data.get("city") or "").strip(),
            gender=data.get("gender") or "",
            born_from=data.get("born_from"),
            born_to=data.get("born_to"),
            tier_id=data["tier"].pk if data.get("tier") else None,
            merchant_id=data["merchant"].pk if data.get("merchant") else None,
        )


@staff_required(PERMISSION)
def announcement_list(request: AuthenticatedHttpRequest) -> HttpResponse:
    form = AnnouncementForm(request.POST or None)
    audience_size = None
    if request.method == "POST" and form.is_valid():
        if "send" in request.POST:
            announcement = announcement_send(
                actor=request.user,
                title=form.cleaned_data["title"],
                body=form.cleaned_data["body"],
                segment=form.segment(),
            )
            size = announcement.audience_size
            messages.success(
                request,
                ngettext("Sending to %(count)s person.", "Sending to %(count)s people.", size) % {"count": size},
            )
            return redirect("announcements:detail", announcement_id=announcement.pk)
        audience_size = audience(segment=form.segment()).count()
    page = Paginator(Announcement.objects.all(), 20).get_page(request.GET.get("page"))
    return render(
        request,
        "campaigns/announcements.html",
        {"form": form, "audience_size": audience_size, "page_obj": page, "section": "announcements"},
    )


@staff_required(PERMISSION)
def announcement_detail(request: AuthenticatedHttpRequest, announcement_id: int) -> HttpResponse:
    announcement = get_object_or_404(Announcement, pk=announcement_id)
    return render(
        request, "campaigns/announcement_detail.html", {"announcement": announcement, "section": "announcements"}
    )
