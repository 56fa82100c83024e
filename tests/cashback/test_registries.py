"""The base's registries the apps above fill in their AppConfig.ready(): demo seeders run in order, and
navigation items; registering again (a ready() that runs twice) adds nothing."""

from cashback import context_processors, demo


def test_demo_seeders_run_in_their_order_and_registering_again_replaces(monkeypatch):
    monkeypatch.setattr(demo, "_seeders", {})
    calls: list[str] = []

    def late() -> list[str]:
        calls.append("late")
        return ["late"]

    def early() -> list[str]:
        calls.append("early")
        return ["early"]

    demo.register(order=demo.ORDER_GIVING, seeder=late)
    demo.register(order=demo.ORDER_USERS, seeder=early)
    demo.register(order=demo.ORDER_USERS, seeder=early)

    assert demo.seed_demo_data() == ["early", "late"]
    assert calls == ["early", "late"]


def test_the_apps_register_their_seeders_in_dependency_order():
    names = [item.name for item in sorted(demo._seeders.values(), key=lambda item: (item.order, item.name))]

    assert names == [
        "accounts.demo.seed_demo_users",
        "accounts.demo_staff.seed_demo_staff",
        "accounts.demo.seed_demo_cards",
        "merchants.demo.seed_demo_merchants",
        "adminpanel.demo.seed_demo_merchant_staff",
        "charity.demo.seed_demo_charities",
        "content.demo.seed_demo_content",
        "campaigns.demo.seed_demo_campaigns",
        "campaigns.demo_shops.seed_demo_shops",
        "programmes.demo.seed_demo_programmes",
        "merchants.billing_demo.seed_demo_billing",
        "charity.demo.seed_demo_giving",
        "monitoring.demo.seed_demo_flags",
        "insights.demo.seed_demo_figures",
        "adminpanel.demo.seed_demo_adjustments",
    ]


def test_a_nav_provider_registered_twice_is_listed_once(monkeypatch):
    monkeypatch.setattr(context_processors, "_member_nav_providers", [])

    def provider(user):
        return None

    context_processors.register_nav_item(provider)
    context_processors.register_nav_item(provider)

    assert context_processors._member_nav_providers == [provider]
