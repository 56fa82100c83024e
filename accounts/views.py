from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render

from accounts import selectors, services
from accounts.forms import ProfileForm
from accounts.models import Consent


@login_required
def profile(request: HttpRequest) -> HttpResponse:
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
                gender=data["gender"],
                city=data["city"],
                language=data["language"],
            )
            services.marketing_consent_set(user=user, granted=data["marketing"])
            messages.success(request, "Your profile has been saved.")
            return redirect("accounts:profile")
    else:
        form = ProfileForm(
            initial={
                "full_name": user.full_name,
                "birth_year": user.birth_year,
                "gender": user.gender,
                "city": user.city,
                "language": user.language,
                "marketing": bool(marketing and marketing.granted),
            }
        )
    context = {
        "form": form,
        "consents": selectors.consents_in_force(user=user),
        "consent_history": selectors.consent_history(user=user),
    }
    return render(request, "accounts/profile.html", context)
