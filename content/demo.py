"""Demo content for seed_demo: a page with history, a page with changes waiting in its draft, a FAQ
entry that is only a draft, and banners live on the wallet home and the public pages. Looks up
before it creates, so seeding twice changes nothing."""

from datetime import timedelta

from django.utils import timezone

from accounts.models import User
from content import services
from content.kinds import BANNERS, FAQ, PAGES
from content.models import Banner, BannerPlacement, FaqCategory, FaqEntry, Page

DEMO_ADMIN_EMAIL = "admin@demo.cashback.example"

ABOUT_V1 = "We help you get money back when you shop at partner shops."
ABOUT_V2 = (
    "We help you get money back when you shop at partner shops, and give some of it to a good cause "
    "if you like.\n\n## Who we are\n\nA small team in Oslo. Write to us at "
    "[hello@cashback.example](mailto:hello@cashback.example)."
)
TERMS = (
    "## Your account\n\nYou need to be 18 or over.\n\n## Cashback\n\nCashback is pending while a purchase "
    "can be returned, then available.\n\n## Closing your account\n\nYou can close it at any time in your wallet."
)


def seed_demo_content() -> list[str]:
    actor = User.objects.filter(email=DEMO_ADMIN_EMAIL).first()
    if actor is None or Page.objects.filter(slug="about-us").exists():
        return []
    about = services.content_create(
        kind=PAGES, values={"slug": "about-us", "title": "About us", "summary": "", "body": ABOUT_V1}, actor=actor
    )
    services.content_publish(item=about, actor=actor)
    values = {"title": "About us", "summary": "Who runs the cashback platform.", "body": ABOUT_V2}
    services.content_draft_save(item=about, values=values, actor=actor)
    services.content_publish(item=about, actor=actor)

    terms = services.content_create(
        kind=PAGES, values={"slug": "terms", "title": "Terms of use", "summary": "", "body": TERMS}, actor=actor
    )
    services.content_publish(item=terms, actor=actor)
    pending = TERMS + "\n\n## Changes to these terms\n\nWe tell you a month before anything changes."
    services.content_draft_save(
        item=terms, values={"title": "Terms of use", "summary": "", "body": pending}, actor=actor
    )

    if not FaqEntry.objects.filter(question="Can I earn cashback abroad?").exists():
        faq_values = {
            "question": "Can I earn cashback abroad?",
            "answer": "Yes, at partner shops in **Norway, Sweden and Denmark**; cashback is in the shop's currency.",
            "category": FaqCategory.SHOPPERS,
            "order": 80,
        }
        services.content_create(kind=FAQ, values=faq_values, actor=actor)

    now = timezone.now()
    for text, link, placement in (
        ("Double cashback at partner cafés this week.", "/wallet/offers/", BannerPlacement.WALLET_HOME),
        ("New: give part of every reward to a charity automatically.", "/charities/", BannerPlacement.PUBLIC_PAGES),
    ):
        if Banner.objects.filter(text=text).exists():
            continue
        banner = services.content_create(
            kind=BANNERS,
            values={"text": text, "link": link, "placement": placement, "starts_at": now - timedelta(days=1),
                    "ends_at": now + timedelta(days=30)},
            actor=actor,
        )  # fmt: skip
        services.content_publish(item=banner, actor=actor)
    return ["content: pages about-us (2 versions) and terms (draft changes pending), a draft FAQ entry, 2 banners"]
