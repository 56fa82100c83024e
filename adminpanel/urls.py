"""The staff panel, mounted at /staff/ (campaigns adds /staff/offers/)."""

from django.urls import path

from adminpanel import adjustments, analytics, cashback_forecast, erasures, facts, invoices, people, views

app_name = "adminpanel"

urlpatterns = [
    path("", views.index, name="index"),
    path("merchants/", views.merchant_list, name="merchant_list"),
    path("merchants/queue/", views.merchant_queue, name="merchant_queue"),
    path("merchants/<int:merchant_id>/", views.merchant_detail, name="merchant_detail"),
    path("merchants/<int:merchant_id>/approve/", views.merchant_approve, name="merchant_approve"),
    path("merchants/<int:merchant_id>/reject/", views.merchant_reject, name="merchant_reject"),
    path("merchants/<int:merchant_id>/suspend/", views.merchant_suspend, name="merchant_suspend"),
    path("merchants/<int:merchant_id>/reinstate/", views.merchant_reinstate, name="merchant_reinstate"),
    path("facts/", facts.fact_list, name="fact_list"),
    path("facts/<int:delivery_id>/retry/", facts.fact_retry, name="fact_retry"),
    path("erasures/", erasures.erasure_list, name="erasure_list"),
    path("users/", people.user_list, name="user_list"),
    path("users/new/", people.user_create, name="user_create"),
    path("users/<int:user_id>/", people.user_detail, name="user_detail"),
    path("users/<int:user_id>/block/", people.user_block, name="user_block"),
    path("users/<int:user_id>/unblock/", people.user_unblock, name="user_unblock"),
    path("users/<int:user_id>/invite/", people.user_invite, name="user_invite"),
    path("roles/", people.role_list, name="role_list"),
    path("roles/<int:user_id>/", people.role_edit, name="role_edit"),
    path("audit/", people.audit_list, name="audit_list"),
    path("audit/export.csv", people.audit_export, name="audit_export"),
    path("adjustments/", adjustments.adjustment_list, name="adjustment_list"),
    path("adjustments/new/", adjustments.adjustment_new, name="adjustment_new"),
    path("adjustments/<int:adjustment_id>/", adjustments.adjustment_detail, name="adjustment_detail"),
    path("adjustments/<int:adjustment_id>/approve/", adjustments.adjustment_approve, name="adjustment_approve"),
    path("adjustments/<int:adjustment_id>/reject/", adjustments.adjustment_reject, name="adjustment_reject"),
    path("invoices/", invoices.invoice_list, name="invoice_list"),
    path("analytics/", analytics.analytics, name="analytics"),
    path("cashback-forecast/", cashback_forecast.cashback_forecast, name="cashback_forecast"),
    path("cashback-forecast/export.csv", cashback_forecast.cashback_forecast_export, name="cashback_forecast_export"),
]
