"""The business customer's own view of their contracts, as a section of the wallet home
(``wallet.home_sections``, registered in ProgrammesConfig.ready())."""

from django.http import HttpRequest
from django.template.loader import render_to_string
from django.utils.safestring import SafeString

from programmes.selectors import contracts_of_customer_person


def wallet_home_section(request: HttpRequest) -> SafeString | None:
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return None
    contracts = contracts_of_customer_person(user=user)
    if not contracts:
        return None
    # No request: the page's context processors (navigation) already ran once for the whole page.
    return render_to_string("programmes/_wallet_section.html", {"contracts": contracts})
