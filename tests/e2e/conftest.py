"""Browser tests of whole journeys; fixtures come from tests/browser.py."""
