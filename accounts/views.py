from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST
from django.views.i18n import set_language as django_set_language

from accounts import selectors, services
from accounts.forms import ProfileForm
from accounts.models import Consent, User
from accounts.request_types import AuthenticatedHttpRequest
from cashback.providers.card_network import fake_card_network_enabled


@login_required
def profile(request: AuthenticatedHttpRequest) -> HttpResponse:
    user = request.user
    marketing = selectors.consent_in_force(user=user, kind=Consent.Kind.MARKETING)
    if request.method == "POST":
        form = ProfileForm(request.POST)
        if form.is_valid():
            data = form.cleaned_data
            services.profile_update(
                user=user,
                full_name=data["full_name"],
                birth_year=data["birth_year"],
                birth_date=data["birth_date"],
                gender=data["gender"],
                city=data["city"],
                language=data["language"],
                time_zone=data["time_zone"],
            )
            services.marketing_consent_set(user=user, granted=data["marketing"])
            messages.success(request, _("Your profile has been saved."))
            return redirect("accounts:profile")
    else:
        form = ProfileForm(
            initial={
                "full_name": user.full_name,
                "birth_year": user.birth_year,
                "birth_date": user.birth_date,
                "gender": user.gender,
                "city": user.city,
                "language": user.language,
                "time_zone": user.time_zone,
                "marketing": bool(marketing and marketing.granted),
            }
        )
    context = {
        "form": form,
        "consents": selectors.consents_in_force(user=user),
        "consent_history": selectors.consent_history(user=user),
    }
    return render(request, "accounts/profile.html", context)


# Linked cards (web wallet) ------------------------------------------------------


@login_required
def cards(request: AuthenticatedHttpRequest) -> HttpResponse:
    """The consumer's linked cards, and how to add one."""
    return render(
        request,
        "accounts/cards.html",
        {"cards": list(selectors.cards_of(user=request.user)), "can_enrol_here": fake_card_network_enabled()},
    )


@login_required
def card_remove(request: AuthenticatedHttpRequest, card_id: int) -> HttpResponse:
    """Ask for confirmation (GET), then remove the card (POST)."""
    card = selectors.card_of(user=request.user, card_id=card_id)
    if card is None:
        raise Http404("No such card.")
    if request.method == "POST":
        services.card_remove(user=request.user, card_id=card.pk)
        messages.success(
            request, _("%(card)s was removed. Purchases with it no longer earn cashback.") % {"card": card}
        )
        return redirect("cards:list")
    return render(request, "accounts/card_remove.html", {"card": card})


@require_POST
def set_language(request: HttpRequest) -> HttpResponse:
    """Django's ``set_language`` (cookie, then back to ``next``), which also saves a signed-in person's choice.

    The profile's language wins over the cookie on every page (``PersonalLocaleMiddleware``), so a
    switch that did not reach the profile would be undone on the next page.
    """
    response = django_set_language(request)
    language = request.POST.get("language", "")
    if (
        request.method == "POST"
        and request.user.is_authenticated
        and language in dict(settings.LANGUAGES)
        and isinstance(request.user, User)
    ):
        services.profile_update(user=request.user, language=language)
    return response
