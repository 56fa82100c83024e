from django.urls import path

from programmes import action_views, monitoring_views, source_views, views

app_name = "programmes"

urlpatterns = [
    path("", views.home, name="home"),
    path("customers/", views.customers, name="customers"),
    path("customers/new/", views.customer_register, name="customer_register"),
    path("customers/<int:customer_id>/sources/", source_views.customer_sources, name="customer_sources"),
    path(
        "customers/<int:customer_id>/sources/link/<str:kind>/",
        source_views.customer_source_link,
        name="customer_source_link",
    ),
    path(
        "customers/<int:customer_id>/sources/<int:link_id>/unlink/",
        source_views.customer_source_unlink,
        name="customer_source_unlink",
    ),
    path("contracts/", views.contracts, name="contracts"),
    path("contracts/new/", views.contract_propose, name="contract_propose"),
    path("contracts/<int:contract_id>/", views.contract_detail, name="contract"),
    path("contracts/<int:contract_id>/approve/", views.contract_approve, name="contract_approve"),
    path("contracts/<int:contract_id>/reject/", views.contract_reject, name="contract_reject"),
    path("sales/upload/", views.sales_upload, name="sales_upload"),
    path("dashboard/", views.dashboard, name="dashboard"),
    path("programmes/new/", views.programme_create, name="programme_create"),
    path("team/", views.team, name="team"),
    path("team/<int:role_id>/remove/", action_views.team_role_remove, name="team_role_remove"),
    path("budgets/<int:budget_id>/", views.budget_edit, name="budget_edit"),
    path("contracts/<int:contract_id>/cancel/", action_views.contract_cancel, name="contract_cancel"),
    path("actions/", action_views.action_rules, name="action_rules"),
    path("actions/new/", action_views.action_rule_create, name="action_rule_create"),
    path("actions/<int:rule_id>/", action_views.action_rule_edit, name="action_rule_edit"),
    path("monitoring/", monitoring_views.monitoring_page, name="monitoring"),
    path("master-data/", action_views.master_data_page, name="master_data"),
    path("master-data/<str:kind>/<int:item_id>/", action_views.master_item, name="master_item"),
]
