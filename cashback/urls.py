from django.contrib import admin
from django.urls import include, path, re_path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView

from cashback import errors, views

api_v1_patterns = [
    path("", include("accounts.api_urls")),
    path("", include("wallet.api_urls")),
    path("", include("campaigns.api_urls")),  # purchases/, challenges/, me/tier/, merchants/
    path("", include("charity.api_urls")),  # charities/, donations/, auto-donate/
    path("", include("referrals.api_urls")),
    path("", include("geofencing.api_urls")),  # offers/ (nearby)
    path("", include("notifications.api_urls")),  # notifications/, notifications/preferences/
    path("partner/", include("merchants.partner_urls")),  # customers/, spend/holds/
    path("partner/", include("campaigns.partner_urls")),  # orders/
    path("partner/", include("programmes.partner_urls")),  # events/ (actions a member did)
    path("", include("programmes.api_urls")),  # actions/, catalogue/, vouchers/ (rewards for actions, the catalogue)
]

urlpatterns = [
    path("", views.home, name="home"),
    path("", include("content.public_urls")),  # /how-it-works/, /faq/, /pages/<slug>/ (edited at /staff/content/)
    path("shops/", include("campaigns.shop_urls")),  # the public shop list, map and merchant pages
    path("healthz/", views.health, name="health"),
    path("readyz/", views.ready, name="ready"),
    path("metrics", views.metrics, name="metrics"),  # Prometheus' default path, without a slash
    # Django's set_language, which also saves a signed-in person's choice on the profile.
    path("i18n/", include("accounts.i18n_urls")),
    path("accounts/", include("allauth.urls")),
    path("accounts/", include("accounts.urls")),
    path("_allauth/", include("accounts.headless_urls")),  # our sign-up and password reset request
    path("_allauth/", include("allauth.headless.urls")),
    path("wallet/", include("wallet.urls")),
    path("wallet/purchases/", include("campaigns.consumer_urls")),
    path("wallet/challenges/", include("campaigns.progress_urls")),
    path("wallet/cards/", include("accounts.card_urls")),
    path("wallet/offers/", include("geofencing.urls")),  # offers near me
    path("wallet/notifications/", include("notifications.urls")),  # the inbox and preferences
    path("wallet/actions/", include("programmes.wallet_urls")),  # the actions log (rewards for actions)
    path("wallet/rewards/", include("programmes.catalogue_urls")),  # the rewards catalogue and vouchers
    path("wallet/programmes/", include("programmes.customer_urls")),  # a business customer's contracts
    path("dev/card-network/", include("accounts.dev_urls")),
    path("partners/", include("merchants.public_urls")),
    path("portal/", include("merchants.urls")),
    path("portal/<int:merchant_id>/offers/", include("campaigns.urls")),
    path("portal/<int:merchant_id>/reports/", include("insights.report_urls")),
    path("portal/<int:merchant_id>/insights/", include("insights.dashboard_urls")),
    path("portal/<int:merchant_id>/programmes/", include("programmes.urls")),  # business programmes' field staff
    path("portal/<int:merchant_id>/catalogue/", include("programmes.catalogue_admin_urls")),  # marketing, finance
    path("programmes/", include("programmes.entry_urls")),
    path("", include("adminpanel.inbox_urls")),  # /staff/inbox/ (the webhook doors are in cashback/wsgi.py)
    path("staff/", include("adminpanel.urls")),
    path("staff/offers/", include("campaigns.staff_urls")),
    path("staff/announcements/", include("campaigns.announcement_urls")),
    path("staff/payouts/", include("wallet.staff_urls")),
    path("staff/content/", include("content.staff_urls")),
    path("staff/monitoring/", include("monitoring.urls")),
    path("", include("charity.urls")),  # /charities/, /wallet/giving/, /staff/charities/
    path("", include("referrals.urls")),  # /r/<code>/, /wallet/referrals/, /staff/referrals/
    path("api/v1/", include(api_v1_patterns)),
    path("api/schema/", SpectacularAPIView.as_view(), name="api-schema"),
    path("api/docs/", SpectacularSwaggerSplitView.as_view(url_name="api-schema"), name="api-docs"),
    # Last of /api/: any other path answers JSON 404 in the error format, never an HTML page.
    re_path(r"^api/(?P<unknown_path>.*)$", errors.api_not_found),
    path("django-admin/", admin.site.urls),
]

handler400 = "cashback.errors.bad_request"
handler403 = "cashback.errors.permission_denied"
handler404 = "cashback.errors.page_not_found"
handler500 = "cashback.errors.server_error"
