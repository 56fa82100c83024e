"""The fake card network's enrolment page and its JSON twin (development and tests only).

They stand in for the network's hosted enrolment: the HTML page takes a test card number and
links the resulting token to the signed-in user; ``POST`` with a JSON body answers the token the
way the network would answer the mobile app, which then links it with ``POST /api/v1/cards/``.
Both answer 404 unless ``CARD_NETWORK_PROVIDER=fake``.

A full card number passes through here and nowhere else: it is not logged, not stored, not
echoed back in a form, and hidden from Django's error reports (``sensitive_post_parameters``,
``sensitive_variables``).
"""

from typing import cast

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt, csrf_protect
from django.views.decorators.debug import sensitive_post_parameters, sensitive_variables
from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts import services
from accounts.forms import DevCardEnrolForm
from accounts.models import User
from cashback.errors import DomainError, error_body, form_error_from
from cashback.providers.card_network import fake_card_network_enabled, get_card_network
from cashback.throttling import throttled_post


class DevCardEnrolSerializer(serializers.Serializer):
    number = serializers.CharField(max_length=23)
    exp_month = serializers.IntegerField(min_value=1, max_value=12)
    exp_year = serializers.IntegerField(min_value=2000, max_value=2100)


class DevCardEnrolApi(APIView):
    """The fake network's enrolment for the app: card number in, network token out."""

    authentication_classes: list = []
    permission_classes = [AllowAny]
    card_number_fields = ("number",)  # the one API field meant for a card number (cashback/parsers.py)

    @extend_schema(exclude=True)
    @sensitive_variables("serializer", "data")
    def post(self, request: Request) -> Response:
        serializer = DevCardEnrolSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        details = get_card_network().enrol(data["number"], data["exp_month"], data["exp_year"])
        return Response(
            {
                "token": details.token,
                "firstNumbers": details.first_six,
                "lastNumbers": details.last_four,
                "exp_month": details.exp_month,
                "exp_year": details.exp_year,
            },
            status=201,
        )


@csrf_protect
@login_required
@throttled_post("cards")
@sensitive_variables("form", "data")
def _enrol_page(request: HttpRequest) -> HttpResponse:
    # Behind login_required, which sends anonymous visitors to log in; enrol() calls it with any request.
    user = cast(User, request.user)
    if request.method == "POST":
        form = DevCardEnrolForm(request.POST)
        if form.is_valid():
            data = form.cleaned_data
            try:
                details = get_card_network().enrol(data["number"], data["exp_month"], data["exp_year"])
                card = services.card_link(user=user, token=details.token)
            except DomainError as error:
                form_error_from(form, error)
            else:
                messages.success(
                    request,
                    _("%(card)s is linked. Purchases with it at partner shops now earn cashback.") % {"card": card},
                )
                return redirect("cards:list")
    else:
        form = DevCardEnrolForm()
    return render(request, "accounts/dev_card_enrol.html", {"form": form})


_enrol_api = DevCardEnrolApi.as_view()


@csrf_exempt  # the JSON twin is a stand-in for another party's API; the HTML page checks CSRF itself
@sensitive_post_parameters("number")
def enrol(request: HttpRequest) -> HttpResponse:
    wants_json = request.content_type == "application/json"
    if not fake_card_network_enabled():
        if wants_json:
            return JsonResponse(error_body(code="not_found", message="Not found."), status=404)
        raise Http404("The development card network is not configured.")
    if wants_json:
        return _enrol_api(request)
    return _enrol_page(request)
