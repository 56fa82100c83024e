import pytest

from cashback import events


def test_subscribers_receive_the_facts_in_subscription_order(monkeypatch):
    monkeypatch.setitem(events._subscribers, "card_linked", [])
    seen = []
    events.subscribe("card_linked", lambda **facts: seen.append(("first", facts)))
    events.subscribe("card_linked", lambda **facts: seen.append(("second", facts)))

    events.announce("card_linked", user_id=1, card_id=2)

    assert seen == [("first", {"user_id": 1, "card_id": 2}), ("second", {"user_id": 1, "card_id": 2})]


def test_subscribing_twice_calls_once(monkeypatch):
    monkeypatch.setitem(events._subscribers, "offer_live", [])
    calls = []

    def subscriber(**facts):
        calls.append(facts)

    events.subscribe("offer_live", subscriber)
    events.subscribe("offer_live", subscriber)
    events.announce("offer_live", offer_id=1, merchant_id=2)

    assert calls == [{"offer_id": 1, "merchant_id": 2}]


def test_an_unknown_fact_is_an_error_not_silence():
    with pytest.raises(ValueError, match="Unknown fact"):
        events.announce("reward_earnt", reward_id=1)
    with pytest.raises(ValueError, match="Unknown fact"):
        events.subscribe("reward_earnt", print)
