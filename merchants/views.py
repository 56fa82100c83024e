"""Server-rendered pages: the partner sign-up (/partners/) and the merchant portal (/portal/).

Views are thin: they check access (``merchant_role_required``), read through selectors, and call
one service, turning its domain error into form errors.
"""

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.db.models import Count, Q
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import Resolver404, resolve, reverse
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST

from accounts import visitor
from accounts.request_types import AuthenticatedHttpRequest
from cashback.errors import DomainError, form_error_from
from cashback.maps import map_tile_attribution, map_tile_url
from merchants import selectors, services
from merchants.decorators import ANY_ROLE, EDITORS, OWNERS, MerchantRequest, merchant_role_required
from merchants.forms import (
    COMMON_TIME_ZONES,
    ApiKeyForm,
    ApplicationForm,
    InvitationForm,
    LocationFilterForm,
    LocationForm,
    MerchantSettingsForm,
    RoleForm,
)
from merchants.models import Invitation, Location, Membership, Merchant, MerchantApiKey
from merchants.portal_registry import overview_panels

PAGE_SIZE = 25


def _page(request: HttpRequest, queryset: Any, per_page: int = PAGE_SIZE) -> Any:
    return Paginator(queryset, per_page).get_page(request.GET.get("page"))


# --- Partner sign-up (/partners/) ---------------------------------------------------------------


def partners_index(request: HttpRequest) -> HttpResponse:
    """What partnering means, the way in, and (when logged in) the status of your applications."""
    applications = selectors.applications_of(user=request.user) if request.user.is_authenticated else []
    response = render(request, "merchants/partners/index.html", {"applications": applications})
    # /partners/?ref=<a consumer's code>: remembered for the application; an unknown code is ignored
    # when the referral programme receives it with the ``merchant_applied`` fact.
    code = visitor.normalize_code(request.GET.get("ref"))
    if code:
        visitor.remember_partner_code(request, response, code)
    return response


@login_required
def partners_apply(request: HttpRequest) -> HttpResponse:
    form = ApplicationForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            merchant = services.merchant_apply(
                applicant=request.user,
                referral_code=visitor.remembered_partner_code(request),
                **form.cleaned_data,
            )
        except DomainError as error:
            form_error_from(form, error)
        else:
            messages.success(
                request, _("Thank you — your application has been sent. We review it within two working days.")
            )
            return redirect("partners:application", merchant_id=merchant.pk)
    return render(request, "merchants/partners/apply.html", {"form": form}, status=400 if form.errors else 200)


@login_required
def partners_application(request: AuthenticatedHttpRequest, merchant_id: int) -> HttpResponse:
    """The applicant's view of their application: status and, if rejected, why."""
    merchant = selectors.applications_of(user=request.user).filter(pk=merchant_id).first()
    if merchant is None:
        raise Http404("No such application.")
    return render(request, "merchants/partners/application.html", {"merchant": merchant})


# --- Portal -------------------------------------------------------------------------------------


@login_required
def portal(request: AuthenticatedHttpRequest) -> HttpResponse:
    """The merchants I work for; with only one, straight to its dashboard."""
    merchants = list(selectors.merchants_of(user=request.user))
    if len(merchants) == 1:
        return redirect("merchants:dashboard", merchant_id=merchants[0].pk)
    return render(request, "merchants/portal/index.html", {"merchants": merchants})


def _offers_url(merchant_id: int) -> str | None:
    """The campaigns app's offers page of this merchant, once it has one (it mounts /portal/<id>/offers/)."""
    url = f"/portal/{merchant_id}/offers/"
    try:
        resolve(url)
    except Resolver404:
        return None
    return url


def _portal_context(request: MerchantRequest, section: str, **extra: Any) -> dict[str, Any]:
    membership: Membership = request.membership
    role = membership.role
    return {
        "merchant": request.merchant,
        "membership": membership,
        "offers_url": _offers_url(membership.merchant_id),
        "section": section,
        "can_edit": role in EDITORS,
        "is_owner": role in OWNERS,
        **extra,
    }


@merchant_role_required(*ANY_ROLE)
def dashboard(request: MerchantRequest, merchant_id: int) -> HttpResponse:
    merchant: Merchant = request.merchant
    counts = merchant.locations.aggregate(locations=Count("id"), unplaced=Count("id", filter=Q(latitude__isnull=True)))
    context = _portal_context(
        request,
        "dashboard",
        location_count=counts["locations"],
        unplaced_count=counts["unplaced"],
        member_count=merchant.memberships.count(),
        recent_events=selectors.audit_events_of(merchant=merchant)[:5],
        panels=overview_panels(merchant=merchant),
    )
    return render(request, "merchants/portal/dashboard.html", context)


@merchant_role_required(*ANY_ROLE)
def location_list(request: MerchantRequest, merchant_id: int) -> HttpResponse:
    filters = LocationFilterForm(request.GET or None)
    map_position = filters.cleaned_data.get("map_position", "") if filters.is_valid() else ""
    locations = selectors.locations_of(merchant=request.merchant, map_position=map_position)
    context = _portal_context(
        request, "locations", filters=filters, filtered=bool(map_position), page_obj=_page(request, locations)
    )
    return render(request, "merchants/portal/locations.html", context)


def _location_of(request: MerchantRequest, location_id: int) -> Location:
    return get_object_or_404(Location, pk=location_id, merchant=request.merchant)


@merchant_role_required(*ANY_ROLE)
def location_detail(request: MerchantRequest, merchant_id: int, location_id: int) -> HttpResponse:
    location = _location_of(request, location_id)
    return render(
        request, "merchants/portal/location_detail.html", _portal_context(request, "locations", location=location)
    )


def _render_location_form(request: MerchantRequest, form: LocationForm, location: Location | None) -> HttpResponse:
    context = _portal_context(
        request,
        "locations",
        form=form,
        location=location,
        time_zones=COMMON_TIME_ZONES,
        map_tile_url=map_tile_url(),
        map_tile_attribution=map_tile_attribution(),
    )
    return render(request, "merchants/portal/location_form.html", context, status=400 if form.errors else 200)


@merchant_role_required(*EDITORS)
def location_create(request: MerchantRequest, merchant_id: int) -> HttpResponse:
    form = LocationForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            location = services.location_create(
                merchant=request.merchant,
                actor=request.user,
                **form.service_arguments(),
            )
        except DomainError as error:
            form_error_from(form, error)
        else:
            if location.has_map_position:
                messages.success(request, _("%(name)s was added.") % {"name": location.name})
            else:
                messages.warning(
                    request,
                    _(
                        "%(name)s was added, but we could not find its address on the map. "
                        "Place it by hand so customers can find it."
                    )
                    % {"name": location.name},
                )
            return redirect("merchants:locations", merchant_id=merchant_id)
    return _render_location_form(request, form, None)


@merchant_role_required(*EDITORS)
def location_edit(request: MerchantRequest, merchant_id: int, location_id: int) -> HttpResponse:
    location = _location_of(request, location_id)
    form = LocationForm(request.POST or None, initial=LocationForm.initial_from(location))
    if request.method == "POST" and form.is_valid():
        try:
            services.location_update(location=location, actor=request.user, **form.service_arguments())
        except DomainError as error:
            form_error_from(form, error)
        else:
            messages.success(request, _("%(name)s was saved.") % {"name": location.name})
            return redirect("merchants:locations", merchant_id=merchant_id)
    return _render_location_form(request, form, location)


@merchant_role_required(*EDITORS)
def location_delete(request: MerchantRequest, merchant_id: int, location_id: int) -> HttpResponse:
    location = _location_of(request, location_id)
    error = None
    if request.method == "POST":
        try:
            services.location_delete(location=location, actor=request.user)
        except DomainError as domain_error:
            error = domain_error.message
        else:
            messages.success(request, _("%(name)s was deleted.") % {"name": location.name})
            return redirect("merchants:locations", merchant_id=merchant_id)
    context = _portal_context(request, "locations", location=location, error=error)
    return render(request, "merchants/portal/location_delete.html", context, status=409 if error else 200)


@merchant_role_required(*ANY_ROLE)
def team(request: MerchantRequest, merchant_id: int) -> HttpResponse:
    merchant: Merchant = request.merchant
    context = _portal_context(
        request,
        "team",
        page_obj=_page(request, selectors.members_of(merchant=merchant)),
        invitations=selectors.open_invitations_of(merchant=merchant) if request.membership.role in OWNERS else [],
        invite_form=InvitationForm(),
    )
    return render(request, "merchants/portal/team.html", context)


@merchant_role_required(*OWNERS)
def team_invite(request: MerchantRequest, merchant_id: int) -> HttpResponse:
    form = InvitationForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            invitation, _token = services.invitation_send(
                merchant=request.merchant,
                actor=request.user,
                email=form.cleaned_data["email"],
                role=form.cleaned_data["role"],
            )
        except DomainError as error:
            form_error_from(form, error)
        else:
            messages.success(
                request,
                _("An invitation was sent to %(email)s. It is valid for 14 days.") % {"email": invitation.email},
            )
            return redirect("merchants:team", merchant_id=merchant_id)
    context = _portal_context(request, "team", form=form)
    return render(request, "merchants/portal/team_invite.html", context, status=400 if form.errors else 200)


def _member_of(request: MerchantRequest, membership_id: int) -> Membership:
    return get_object_or_404(
        Membership.objects.select_related("user"),
        pk=membership_id,
        merchant=request.merchant,
    )


@merchant_role_required(*OWNERS)
def member_edit(request: MerchantRequest, merchant_id: int, membership_id: int) -> HttpResponse:
    member = _member_of(request, membership_id)
    form = RoleForm(request.POST or None, initial={"role": member.role})
    if request.method == "POST" and form.is_valid():
        try:
            services.membership_change_role(membership=member, actor=request.user, role=form.cleaned_data["role"])
        except DomainError as error:
            form_error_from(form, error)
        else:
            messages.success(
                request,
                _("%(user)s is now %(role)s.") % {"user": member.user, "role": member.get_role_display().lower()},
            )
            return redirect("merchants:team", merchant_id=merchant_id)
    context = _portal_context(request, "team", member=member, form=form)
    return render(request, "merchants/portal/member_edit.html", context, status=400 if form.errors else 200)


@merchant_role_required(*OWNERS)
def member_remove(request: MerchantRequest, merchant_id: int, membership_id: int) -> HttpResponse:
    member = _member_of(request, membership_id)
    error = None
    if request.method == "POST":
        try:
            services.membership_remove(membership=member, actor=request.user)
        except DomainError as domain_error:
            error = domain_error.message
        else:
            messages.success(request, _("%(user)s was removed from the team.") % {"user": member.user})
            if member.user_id == request.user.pk:
                return redirect("merchants:portal")
            return redirect("merchants:team", merchant_id=merchant_id)
    context = _portal_context(request, "team", member=member, error=error)
    return render(request, "merchants/portal/member_remove.html", context, status=409 if error else 200)


@require_POST
@merchant_role_required(*OWNERS)
def invitation_revoke(request: MerchantRequest, merchant_id: int, invitation_id: int) -> HttpResponse:
    invitation = get_object_or_404(Invitation, pk=invitation_id, merchant=request.merchant)
    try:
        services.invitation_revoke(invitation=invitation, actor=request.user)
    except DomainError as error:
        messages.error(request, error.message)
    else:
        messages.success(request, _("The invitation to %(email)s was withdrawn.") % {"email": invitation.email})
    return redirect("merchants:team", merchant_id=merchant_id)


@merchant_role_required(*ANY_ROLE)
def activity(request: MerchantRequest, merchant_id: int) -> HttpResponse:
    events = selectors.audit_events_of(merchant=request.merchant)
    context = _portal_context(request, "activity", page_obj=_page(request, events), labels=services.AuditAction.LABELS)
    return render(request, "merchants/portal/activity.html", context)


@merchant_role_required(*EDITORS)
def merchant_settings(request: MerchantRequest, merchant_id: int) -> HttpResponse:
    merchant: Merchant = request.merchant
    initial = {field: getattr(merchant, field) for field in services.SETTINGS_FIELDS}
    form = MerchantSettingsForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            services.merchant_update_settings(merchant=merchant, actor=request.user, **form.cleaned_data)
        except DomainError as error:
            form_error_from(form, error)
        else:
            messages.success(request, _("Settings saved."))
            return redirect("merchants:settings", merchant_id=merchant_id)
    context = _portal_context(request, "settings", form=form)
    return render(request, "merchants/portal/settings.html", context, status=400 if form.errors else 200)


# --- Partner API keys (owners only) -------------------------------------------------------------


@merchant_role_required(*OWNERS)
def api_keys(request: MerchantRequest, merchant_id: int) -> HttpResponse:
    keys = selectors.api_keys_of(merchant=request.merchant)
    context = _portal_context(request, "api_keys", page_obj=_page(request, keys))
    return render(request, "merchants/portal/api_keys.html", context)


@never_cache
@merchant_role_required(*OWNERS)
def api_key_create(request: MerchantRequest, merchant_id: int) -> HttpResponse:
    """Create a key and show its secret on this one response (never stored, never shown again)."""
    form = ApiKeyForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            key, plaintext = services.api_key_create(
                merchant=request.merchant,
                actor=request.user,
                name=form.cleaned_data["name"],
            )
        except DomainError as error:
            form_error_from(form, error)
        else:
            context = _portal_context(request, "api_keys", key=key, plaintext=plaintext)
            return render(request, "merchants/portal/api_key_created.html", context, status=201)
    context = _portal_context(request, "api_keys", form=form)
    return render(request, "merchants/portal/api_key_form.html", context, status=400 if form.errors else 200)


@merchant_role_required(*OWNERS)
def api_key_revoke(request: MerchantRequest, merchant_id: int, key_id: int) -> HttpResponse:
    """GET: confirm; POST: revoke. Systems using the key are refused from then on."""
    key = get_object_or_404(MerchantApiKey, pk=key_id, merchant=request.merchant)
    if request.method == "POST":
        services.api_key_revoke(key_id=key.pk, merchant=request.merchant, actor=request.user)
        messages.success(
            request, _("The key “%(name)s” was revoked. Requests with it are now refused.") % {"name": key.name}
        )
        return redirect("merchants:api_keys", merchant_id=merchant_id)
    return render(request, "merchants/portal/api_key_revoke.html", _portal_context(request, "api_keys", key=key))


# --- Stripe as a purchase source (owners only) --------------------------------------------------


@merchant_role_required(*OWNERS)
def stripe_connection(request: MerchantRequest, merchant_id: int) -> HttpResponse:
    """The merchant's Stripe connection: connect (POST), and its state."""
    merchant: Merchant = request.merchant
    if request.method == "POST":
        try:
            url = services.stripe_connect_start(
                merchant=merchant,
                actor=request.user,
                refresh_url=request.build_absolute_uri(reverse("merchants:stripe_refresh", args=[merchant_id])),
                return_url=request.build_absolute_uri(reverse("merchants:stripe_return", args=[merchant_id])),
            )
        except DomainError as error:
            messages.error(request, error.message)
            return redirect("merchants:stripe", merchant_id=merchant_id)
        return redirect(url)
    context = _portal_context(request, "stripe", connection=selectors.stripe_connection_of(merchant=merchant))
    return render(request, "merchants/portal/stripe.html", context)


@merchant_role_required(*OWNERS)
def stripe_return(request: MerchantRequest, merchant_id: int) -> HttpResponse:
    """Stripe sends the owner back here after onboarding: read the account's state."""
    try:
        connection = services.stripe_connection_refresh(merchant=request.merchant, actor=request.user)
    except DomainError as error:
        messages.error(request, error.message)
    else:
        if connection is not None and connection.status == connection.Status.ACTIVE:
            messages.success(
                request, _("Your Stripe account is connected: payments from members now earn them cashback.")
            )
        else:
            messages.warning(request, _("Stripe still needs some details from you before the account is connected."))
    return redirect("merchants:stripe", merchant_id=merchant_id)


@merchant_role_required(*OWNERS)
def stripe_refresh(request: MerchantRequest, merchant_id: int) -> HttpResponse:
    """Stripe's onboarding link expired: show the page again, where "Continue" makes a new one."""
    messages.info(request, _("The Stripe link expired. Continue to get a new one."))
    return redirect("merchants:stripe", merchant_id=merchant_id)


@merchant_role_required(*OWNERS)
def stripe_disconnect(request: MerchantRequest, merchant_id: int) -> HttpResponse:
    """GET: confirm; POST: stop turning the account's payments into purchases."""
    merchant: Merchant = request.merchant
    connection = selectors.stripe_connection_of(merchant=merchant)
    if connection is None:
        raise Http404("No Stripe account is connected.")
    if request.method == "POST":
        services.stripe_disconnect(merchant=merchant, actor=request.user)
        messages.success(request, _("Stripe disconnected: new payments no longer earn cashback."))
        return redirect("merchants:stripe", merchant_id=merchant_id)
    context = _portal_context(request, "stripe", connection=connection)
    return render(request, "merchants/portal/stripe_disconnect.html", context)


# --- Invitations --------------------------------------------------------------------------------


@login_required
def invitation_accept(request: AuthenticatedHttpRequest, token: str) -> HttpResponse:
    """The link in the invitation e-mail: shows who invites you and as what, then joins on POST."""
    try:
        invitation = services.invitation_by_token(token=token)
    except DomainError as error:
        return render(request, "merchants/portal/invitation.html", {"error": error.message}, status=404)
    if request.method == "POST":
        try:
            membership = services.invitation_accept(token=token, user=request.user)
        except DomainError as error:
            context = {"invitation": invitation, "error": error.message}
            return render(request, "merchants/portal/invitation.html", context, status=error.http_status)
        messages.success(
            request, _("Welcome to the %(display_name)s team.") % {"display_name": membership.merchant.display_name}
        )
        return redirect(reverse("merchants:dashboard", kwargs={"merchant_id": membership.merchant_id}))
    # Not "error": that name is the except-target above, which Python deletes after its block.
    problem = None
    try:
        services.invitation_check(invitation=invitation, user=request.user)
    except DomainError as domain_error:
        problem = domain_error.message
    return render(request, "merchants/portal/invitation.html", {"invitation": invitation, "error": problem})
