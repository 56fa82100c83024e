"""The one error contract: domain errors and DRF errors become {"error": {code, message, fields}}."""

from django import forms
from rest_framework import serializers
from rest_framework.permissions import AllowAny
from rest_framework.test import APIRequestFactory
from rest_framework.views import APIView

from cashback.errors import ConflictError, DomainError, form_error_from


class InsufficientDemoFunds(DomainError):
    code = "insufficient_funds"
    default_message = "Not enough available cashback."


class AmountSerializer(serializers.Serializer):
    amount = serializers.DecimalField(max_digits=12, decimal_places=2, min_value=0)


class DemoView(APIView):
    permission_classes = [AllowAny]
    raise_error: Exception | None = None

    def post(self, request):
        AmountSerializer(data=request.data).is_valid(raise_exception=True)
        raise self.raise_error


def _post(data, error=None):
    view = DemoView.as_view(raise_error=error)
    return view(APIRequestFactory().post("/api/v1/demo/", data, format="json"))


def test_a_domain_error_becomes_a_4xx_with_its_code_and_message():
    response = _post({"amount": "10.00"}, InsufficientDemoFunds())
    assert response.status_code == 400
    assert response.data == {
        "error": {"code": "insufficient_funds", "message": "Not enough available cashback.", "fields": {}}
    }


def test_a_domain_error_subclass_keeps_its_status():
    response = _post({"amount": "1.00"}, ConflictError("Already paid."))
    assert response.status_code == 409
    assert response.data["error"]["code"] == "conflict"
    assert response.data["error"]["message"] == "Already paid."


def test_validation_errors_name_the_fields():
    response = _post({"amount": "-3"})
    assert response.status_code == 400
    error = response.data["error"]
    assert error["code"] == "invalid"
    assert list(error["fields"]) == ["amount"]
    assert error["message"].startswith("amount: ")


def test_form_error_from_puts_field_errors_beside_fields_and_others_on_top():
    class AmountForm(forms.Form):
        amount = forms.IntegerField()

    form = AmountForm(data={"amount": "5"})
    assert form.is_valid()
    form_error_from(form, DomainError(fields={"amount": ["Too much."], "unknown": ["Elsewhere."]}))
    form_error_from(form, DomainError("General problem."))
    assert form.errors["amount"] == ["Too much."]
    assert form.non_field_errors() == ["Elsewhere.", "General problem."]
