"""Send correctly signed card-network events for one purchase to a running server.

    python manage.py simulate_purchase --user consumer@demo.cashback.example --amount 249.00
    python manage.py simulate_purchase --card-token ctok_... --merchant-id 4711 --store-id 0001 \\
        --amount 249.00 --currency NOK --events auth,clearing,refund --refund-amount 49.00

Events are posted to ``<url>/webhooks/visa/`` (default http://127.0.0.1:8000) in the body shape
and with the ``Visa-Signature`` header of ARCHITECTURE.md ("Card-network webhook"), signed with
``VISA_WEBHOOK_SECRET`` (or ``--secret``). Auth and clearing share the transaction id; a refund or
reversal gets its own id and names the purchase in ``originalTransactionId``.

The card is the user's newest active card (``--user``) or the given token; the shop is the given
network ids, a location by id (``--location``), or else the first shop with network ids.
"""

import json
import time
import uuid
from datetime import UTC, timedelta
from typing import Any

import requests
from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db.models import Q
from django.utils import timezone

from accounts.selectors import active_card_by_token, cards_of
from cashback.errors import DomainError
from cashback.providers import visa_signature
from cashback.providers.card_network import get_card_network
from merchants.models import Location
from wallet.money import minor_to_decimal_string, parse_amount

EVENT_KINDS = ("auth", "clearing", "refund", "reversal")
# ISO 3166 alpha-3, as the card network writes countries.
ALPHA3 = {"NO": "NOR", "SE": "SWE", "DK": "DNK", "FI": "FIN", "IS": "ISL", "DE": "DEU", "GB": "GBR"}


class Command(BaseCommand):
    help = "Send signed card-network events (auth, clearing, refund, reversal) for one purchase to a running server."

    def add_arguments(self, parser: CommandParser) -> None:
        who = parser.add_mutually_exclusive_group(required=True)
        who.add_argument("--user", help="E-mail (or phone) of a consumer with a linked card.")
        who.add_argument("--card-token", help="The card's network token (ctok_...).")
        parser.add_argument("--merchant-id", default="", help="Card-network merchant id of the shop.")
        parser.add_argument("--store-id", default="", help="Card-network store id of the shop.")
        parser.add_argument("--location", type=int, help="Id of a shop (Location) with network ids.")
        parser.add_argument("--amount", required=True, help="Purchase amount as a decimal, e.g. 249.00.")
        parser.add_argument("--currency", default="", help="ISO currency (default: the shop's merchant's currency).")
        parser.add_argument(
            "--events",
            default="auth,clearing",
            help="In sending order: auth,clearing,refund,reversal.",
        )
        parser.add_argument("--clearing-amount", help="Cleared amount if it differs from the authorised one.")
        parser.add_argument("--refund-amount", help="Refunded amount (default: the whole purchase).")
        parser.add_argument("--transaction-id", help="The purchase's network transaction id (default: a new one).")
        parser.add_argument("--url", default="http://127.0.0.1:8000", help="Base URL of the running server.")
        parser.add_argument("--secret", default="", help="Signing secret (default: VISA_WEBHOOK_SECRET).")
        parser.add_argument("--timeout", type=float, default=10.0, help="Seconds to wait for each answer.")

    def handle(self, *args: Any, **options: Any) -> None:
        kinds = self._kinds(options["events"])
        secret = options["secret"] or settings.VISA_WEBHOOK_SECRET
        if not secret:
            raise CommandError("No signing secret: set VISA_WEBHOOK_SECRET (the server's) or pass --secret.")
        card = self._card(options)
        location = self._location(options)
        currency = (options["currency"] or location["currency"] or settings.DEFAULT_CURRENCY).upper()
        amounts = {
            "auth": self._amount(options["amount"], currency, "--amount"),
        }
        amounts["clearing"] = (
            self._amount(options["clearing_amount"], currency, "--clearing-amount")
            if options["clearing_amount"]
            else amounts["auth"]
        )
        amounts["refund"] = (
            self._amount(options["refund_amount"], currency, "--refund-amount")
            if options["refund_amount"]
            else amounts["clearing"]
        )
        amounts["reversal"] = amounts["auth"]

        txn = options["transaction_id"] or f"txn_{uuid.uuid4().hex[:20]}"
        bought_at = timezone.localtime() - timedelta(minutes=1)
        url = options["url"].rstrip("/") + "/webhooks/visa/"
        failures = 0
        for kind in kinds:
            event = self._event(
                kind=kind,
                txn=txn,
                amount=amounts[kind],
                currency=currency,
                bought_at=bought_at,
                card=card,
                location=location,
            )
            body = json.dumps(event, separators=(",", ":")).encode()
            header = visa_signature.sign(body=body, secret=secret, timestamp=int(time.time()))
            try:
                response = requests.post(
                    url,
                    data=body,
                    headers={"Content-Type": "application/json", visa_signature.HEADER: header},
                    timeout=options["timeout"],
                )
            except requests.RequestException as error:
                raise CommandError(f"Could not reach {url}: {error}. Is the server running?") from None
            ok = 200 <= response.status_code < 300
            failures += not ok
            line = f"{kind:<9} {event['id']} {event['data']['amount']} {currency} -> HTTP {response.status_code} "
            line += response.text[:300]
            self.stdout.write(self.style.SUCCESS(line) if ok else self.style.ERROR(line))
        self.stdout.write(f"Transaction {txn}, card •••• {card['lastNumbers']}, shop {location['label']}.")
        if failures:
            raise CommandError(f"{failures} of {len(kinds)} events were refused.")

    # --- input --------------------------------------------------------------------------------

    @staticmethod
    def _kinds(text: str) -> list[str]:
        kinds = [kind.strip().lower() for kind in text.split(",") if kind.strip()]
        unknown = [kind for kind in kinds if kind not in EVENT_KINDS]
        if not kinds or unknown:
            raise CommandError(f"--events takes a comma-separated list of {', '.join(EVENT_KINDS)}; got {text!r}.")
        return kinds

    @staticmethod
    def _amount(text: str, currency: str, option: str) -> str:
        try:
            return minor_to_decimal_string(parse_amount(text, currency), currency)
        except DomainError as error:
            raise CommandError(f"{option}: {error.message}") from None

    def _card(self, options: dict[str, Any]) -> dict[str, str]:
        if options["user"]:
            identifier = options["user"].strip()
            user = get_user_model().objects.filter(Q(email__iexact=identifier) | Q(phone=identifier)).first()
            if user is None:
                raise CommandError(f"No user {identifier!r}.")
            card = cards_of(user=user).first()
            if card is None:
                raise CommandError(
                    f"{identifier} has no linked card: link one in the web wallet (/wallet/cards/) first."
                )
            return {"token": card.network_token, "firstNumbers": card.first_six, "lastNumbers": card.last_four}
        token = options["card_token"].strip()
        card = active_card_by_token(token)
        if card is not None:
            return {"token": token, "firstNumbers": card.first_six, "lastNumbers": card.last_four}
        try:
            details = get_card_network().card_lookup(token)
        except DomainError:
            raise CommandError(f"The card network does not know the token {token[:16]!r}.") from None
        self.stderr.write(self.style.WARNING("No user has linked this card: the events will be parked as unmatched."))
        return {"token": token, "firstNumbers": details.first_six, "lastNumbers": details.last_four}

    def _location(self, options: dict[str, Any]) -> dict[str, str]:
        shops = Location.objects.select_related("merchant").exclude(network_merchant_id="")
        if options["location"] is not None:
            shop = shops.filter(pk=options["location"]).first()
            if shop is None:
                raise CommandError(f"No shop with id {options['location']} and card-network ids.")
        elif options["merchant_id"] or options["store_id"]:
            if not (options["merchant_id"] and options["store_id"]):
                raise CommandError("Give both --merchant-id and --store-id (or --location).")
            shop = shops.filter(
                network_merchant_id=options["merchant_id"], network_store_id=options["store_id"]
            ).first()
            if shop is None:
                self.stderr.write(self.style.WARNING("No shop has these network ids: the events will be unmatched."))
                return {
                    "merchant_id": options["merchant_id"],
                    "store_id": options["store_id"],
                    "name": "Unknown shop",
                    "postcode": "",
                    "country": "",
                    "currency": "",
                    "label": f"{options['merchant_id']}/{options['store_id']}",
                }
        else:
            shop = shops.order_by("pk").first()
            if shop is None:
                raise CommandError("No shop has card-network ids: give --merchant-id and --store-id.")
        return {
            "merchant_id": shop.network_merchant_id,
            "store_id": shop.network_store_id,
            "name": shop.merchant.display_name,
            "postcode": shop.postcode,
            "country": ALPHA3.get(shop.country, shop.country),
            "currency": shop.merchant.currency,
            "label": f"{shop.name} ({shop.network_merchant_id}/{shop.network_store_id})",
        }

    # --- the event ----------------------------------------------------------------------------

    @staticmethod
    def _event(
        *, kind: str, txn: str, amount: str, currency: str, bought_at: Any, card: dict, location: dict
    ) -> dict[str, Any]:
        data: dict[str, Any] = {
            "id": txn if kind in ("auth", "clearing") else f"{txn}_{kind}_{uuid.uuid4().hex[:8]}",
            "amount": amount,
            "currency": currency,
            "datetime": (bought_at if kind in ("auth", "clearing") else timezone.localtime()).isoformat(
                timespec="seconds"
            ),
            "card": {**card, "scheme": "visa"},
            "merchant": {"id": location["merchant_id"], "name": location["name"]},
            "location": {
                "id": location["store_id"],
                "postcode": location["postcode"],
                "countryCode": location["country"],
            },
        }
        if kind in ("refund", "reversal"):
            data["originalTransactionId"] = txn
        return {
            "id": f"evt_{uuid.uuid4().hex}",
            "type": f"transaction.{kind}",
            "created": timezone.now().astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
            "data": data,
        }
