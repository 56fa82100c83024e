"""The keyed hash that stands in for identifiers from outside (cashback/keyed_ids.py, docs/ledger.md)."""

import string

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.test import override_settings
from hypothesis import given
from hypothesis import strategies as st

from cashback.keyed_ids import KEY_LENGTH, external_id_key_check, external_key

BASE32 = set(string.ascii_lowercase + "234567")


@given(namespace=st.text(alphabet=string.ascii_letters + ":_-", max_size=30), value=st.text(max_size=300))
def test_a_key_is_short_plain_and_the_same_every_time(namespace, value):
    key = external_key(namespace=namespace, value=value)

    assert len(key) == KEY_LENGTH and set(key) <= BASE32
    assert key == external_key(namespace=namespace, value=value)
    assert value == "" or value not in key or len(value) < 4


@given(value=st.text(min_size=1, max_size=50))
def test_namespaces_keep_equal_ids_of_different_kinds_apart(value):
    assert external_key(namespace="card:event", value=value) != external_key(namespace="card:purchase", value=value)


def test_the_key_depends_on_the_secret():
    before = external_key(namespace="card:purchase", value="4111111111111111")

    with override_settings(EXTERNAL_ID_KEY="another-secret"):
        after = external_key(namespace="card:purchase", value="4111111111111111")

    assert before != after


def test_without_the_secret_nothing_is_keyed_and_the_platform_refuses_to_start():
    with override_settings(EXTERNAL_ID_KEY=""):
        with pytest.raises(ImproperlyConfigured):
            external_key(namespace="card:purchase", value="txn_1")
        assert [error.id for error in external_id_key_check()] == ["cashback.E001"]


def test_the_secret_may_not_be_secret_key_which_is_rotated():
    with override_settings(EXTERNAL_ID_KEY="same", SECRET_KEY="same"):
        assert [error.id for error in external_id_key_check()] == ["cashback.E002"]
    assert external_id_key_check() == []
