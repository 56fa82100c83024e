"""Data migration: the text of the static How it works and FAQ pages, moved into content as
published version 1 of each (published by the platform), so nothing is lost when the pages start
reading from content. Then the staff roles get the new app's permissions (marketing: all of content).

Reversing removes nothing: the schema migration's reverse drops the tables, and published versions
are append-only.
"""

from django.db import migrations

HOW_IT_WORKS_SUMMARY = (
    "Cashback without coupons or receipts: link your card once, shop as usual, and decide what your cashback becomes."
)

HOW_IT_WORKS = """\
## 1. Link your card

Sign up with your email address or phone number and add your Visa card in the wallet. The card network gives us a token that stands for your card; we store that token, the last four digits, the expiry date and whether the card is active. We never see or store your full card number.

You can link more than one card and remove a card at any time. A card can be linked to one account only.

## 2. Shop at partner shops

When you pay with a linked card at a partner shop, the card network tells us about the purchase. If the shop has a live offer that fits — for example 5\u00a0% back, or 50\u00a0NOK back on purchases over 500\u00a0NOK — the cashback is added to your wallet on its own.

Some offers have conditions, such as a minimum amount, certain days or hours, certain shops, or a limit per customer. Some come with a challenge: spend a total or make a number of purchases during the offer and earn a bonus once.

## 3. Watch it land in your wallet

- **Pending:** while the purchase can still be returned (the shop's return period), your cashback is pending. If you return the goods, it is taken back.
- **Available:** after the return period it becomes available: yours to pay out, spend or give away.
- **Expiring:** cashback can expire after a while if it is not used. We tell you before it does.

Your wallet shows pending and available balances per currency, what you have earned, donated and paid out, and every movement with the purchase, offer and shop it came from.

## 4. Use your cashback

- **Pay out** to your bank account once you reach the minimum amount. You see any fee before you confirm, and follow the payout from requested to paid.
- **Spend at checkout** at partner shops that accept it, for all or part of an order. The amount is held while you pay, so it can never be spent twice.
- **Donate** to a partner charity — see below.

## 5. Give it to a good cause

Give part or all of your balance once, or choose a share of every reward to go to a charity automatically. Charities describe their impact in units you can picture — for example, **one school desk = 800 NOK** — so your wallet can tell you what your giving became. Charities receive what was given to them every month.

## 6. Bring a friend

Share your referral link. When a friend signs up with it and makes a first qualifying purchase, you both earn a bonus.

## Your data

You can download all your data and close your account at any time. When you close it, your personal details are erased; the accounting records stay, anonymised, because money moved.

Marketing messages are opt-in and separate from the terms. You choose which notifications you get, and through which channel.

## For shops

Partner shops fund the cashback they offer. They create campaigns in the merchant portal — percent or fixed cashback, or a reward that goes to a charity — choose who they are for and set a budget, and see the revenue and customers the campaigns bring. Each month they are invoiced for the cashback their campaigns paid plus our commission.

[Become a partner](/partners/)
"""

FAQ = [
    ("shoppers", "What does it cost?", "Nothing. Shops pay for the cashback you earn, because you chose to shop with them."),
    ("shoppers", "Is it safe to link my card?", "We never see or store your full card number. The card network gives us a token that stands for your card, and we keep that token, the last four digits and the expiry date. You can remove a card at any time in your wallet."),
    ("shoppers", "Which shops give cashback?", "Every shop on the [partner shops](/shops/) page has an offer running now. Search by name or city, or filter by category and kind of offer; each shop's page lists its offers in plain words, its addresses and its opening hours."),
    ("shoppers", "Do I need to show anything at the till?", "No. Pay with your linked card as usual, in the shop or online. The card network tells us about the purchase and the offer applies on its own."),
    ("shoppers", "Why did a purchase earn nothing?", "Offers can have conditions: a minimum amount, certain days or hours, certain shops, new customers only, or a limit per customer. Open the purchase in your wallet: it says which offer applied, or why none did."),
    ("shoppers", "What are challenges?", 'Some offers come with a challenge, such as "make 10 purchases while the offer runs". Reach the target and you earn a bonus once, on top of the offer\'s cashback.'),
    ("shoppers", "What are tiers?", "The more you shop at partner shops over twelve months, the higher your tier. A higher tier multiplies the cashback of every offer, and some offers are for members of a tier only."),
    ("money", "When can I use my cashback?", "It is pending while the purchase can still be returned (the shop's return period, shown with each offer), then it becomes available to pay out, spend at checkout or give away."),
    ("money", "What happens if I return something?", "The cashback of the returned part is taken back. If it was still pending, it simply disappears; if you had already used it, your wallet shows what is owed and settles it from your next cashback."),
    ("money", "How do I get my cashback to my bank?", "Set up payouts once in your wallet (our payment partner checks who you are), then pay out whenever your available balance is above the minimum. Payouts usually arrive within a few working days."),
    ("money", "Does cashback expire?", "Available cashback you do not use for a long time expires. We tell you in good time before it does, so you can pay it out, spend it or give it away."),
    ("money", "Can I give my cashback to a charity?", "Yes: once, or a share of every reward automatically. Some shops also run charity offers, where a share of what you pay goes straight to a [partner charity](/charities/). You see your impact in your wallet and get a receipt each year."),
    ("shops", "How do we become a partner?", "Apply on the [partner page](/partners/) with your organisation number. We review every application; once approved, you can add your shops and offers in the merchant portal."),
    ("shops", "What do we pay?", "The cashback your offers actually earned customers, and nothing for purchases that earned nothing. You set each offer's budget, and an offer stops when its budget is spent."),
    ("shops", "What kinds of offers can we run?", "A percent back or a fixed amount back; with a minimum spend, a maximum per purchase, certain days and hours, certain shops, new or returning customers, or a tier; a limit per customer; and challenges with a bonus. You can also give a share to a partner charity. The portal shows an estimate of the cost from your recent sales while you edit."),
    ("shops", "How do customers find us?", "While an offer runs, your shops are on the partner map and list, with your offers in plain words, your addresses and your opening hours. Keep the opening hours up to date in the portal under your shops."),
    ("shops", "Why is an offer not on the map?", "An offer shows once staff have approved it and its start time has come, and it disappears when it ends, is paused or its budget is spent. A shop shows on the map only when it has a map position: we look the address up, or you can place it by hand."),
    ("shops", "How are purchases matched to us?", "Through the card network's merchant and store ids you enter for each shop, or through our partner API and Stripe for online orders. Returns reverse the cashback in proportion."),
]  # fmt: skip


def seed(apps, schema_editor):
    Page = apps.get_model("content", "Page")
    PageVersion = apps.get_model("content", "PageVersion")
    FaqEntry = apps.get_model("content", "FaqEntry")
    FaqEntryVersion = apps.get_model("content", "FaqEntryVersion")
    if not Page.objects.filter(slug="how-it-works").exists():
        values = {"title": "How it works", "summary": HOW_IT_WORKS_SUMMARY, "body": HOW_IT_WORKS}
        page = Page.objects.create(slug="how-it-works", **values)
        page.published = PageVersion.objects.create(item=page, number=1, **values)
        page.save(update_fields=["published"])
    if not FaqEntry.objects.exists():
        for position, (category, question, answer) in enumerate(FAQ):
            values = {"question": question, "answer": answer, "category": category, "order": (position + 1) * 10}
            entry = FaqEntry.objects.create(**values)
            entry.published = FaqEntryVersion.objects.create(item=entry, number=1, **values)
            entry.save(update_fields=["published"])


def grant_staff_roles(apps, schema_editor):
    # As accounts/migrations/0002_staff_roles.py: permissions exist only after post_migrate otherwise.
    from django.apps import apps as global_apps
    from django.contrib.auth.management import create_permissions

    from accounts.services import staff_roles_sync

    create_permissions(global_apps.get_app_config("content"), verbosity=0, using=schema_editor.connection.alias)
    staff_roles_sync()


class Migration(migrations.Migration):
    dependencies = [("content", "0002_versions_append_only"), ("accounts", "0002_staff_roles")]

    operations = [
        migrations.RunPython(seed, migrations.RunPython.noop),
        migrations.RunPython(grant_staff_roles, migrations.RunPython.noop),
    ]
