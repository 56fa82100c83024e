"""Writes: create an item's draft, edit it, publish it as a new version, restore an old version into
the draft, withdraw an item from the public site. Each is atomic, locks the item it changes and
records the staff action in the one staff audit log in the same transaction.

Preconditions: the values were validated by the kind's form (``content.forms``); the caller checked
the actor's permission for the kind.
"""

from collections.abc import Mapping
from typing import Any

from django.db import transaction
from django.db.models import Max

from accounts.models import User
from accounts.staff_audit import record_staff_action
from content.errors import NothingToPublishError, VersionNotFoundError
from content.kinds import ContentKind, kind_of
from content.models import ContentItem, ContentVersion


def content_values(obj: ContentItem | ContentVersion) -> dict[str, Any]:
    """The content fields of an item's draft or of one of its versions."""
    return {name: getattr(obj, name) for name in kind_of(obj).fields}


def _locked(item: ContentItem) -> ContentItem:
    return type(item).objects.select_for_update(of=("self",)).select_related("published").get(pk=item.pk)


def _label(kind: ContentKind, item: ContentItem) -> str:
    return f"{kind.label.capitalize()} {item.pk}"


def content_create(*, kind: ContentKind, values: Mapping[str, Any], actor: User) -> ContentItem:
    """A new item with ``values`` as its draft; nothing is public until it is published."""
    with transaction.atomic():
        item = kind.model.objects.create(
            **{name: values[name] for name in (*kind.model.CREATE_ONLY_FIELDS, *kind.fields)}
        )
        record_staff_action(
            actor=actor,
            action="content.create",
            target=item,
            summary=f"{_label(kind, item)} created as a draft",
            after=content_values(item),
        )
    return item


def content_draft_save(*, item: ContentItem, values: Mapping[str, Any], actor: User) -> ContentItem:
    """Replace the draft with ``values``; the published version stays what the public sees."""
    kind = kind_of(item)
    with transaction.atomic():
        item = _locked(item)
        before = content_values(item)
        for name in kind.fields:
            setattr(item, name, values[name])
        item.save(update_fields=[*kind.fields, "updated_at"])
        after = content_values(item)
        changed = [name for name in kind.fields if before[name] != after[name]]
        record_staff_action(
            actor=actor,
            action="content.edit",
            target=item,
            summary=f"{_label(kind, item)} draft edited" + (f": {', '.join(changed)}" if changed else " (no change)"),
            before={name: before[name] for name in changed},
            after={name: after[name] for name in changed},
        )
    return item


def content_publish(*, item: ContentItem, actor: User) -> ContentVersion:
    """Copy the draft into a new version and make it the one the public sees.

    Raises ``NothingToPublishError`` when the draft equals the published version.
    """
    kind = kind_of(item)
    with transaction.atomic():
        item = _locked(item)
        values = content_values(item)
        previous = item.published
        if previous is not None and content_values(previous) == values:
            raise NothingToPublishError()
        last = kind.version_model.objects.filter(item_id=item.pk).aggregate(last=Max("number"))["last"] or 0
        version = kind.version_model.objects.create(item_id=item.pk, number=last + 1, published_by=actor, **values)
        item.published = version
        item.save(update_fields=["published", "updated_at"])
        record_staff_action(
            actor=actor,
            action="content.publish",
            target=item,
            summary=f"{_label(kind, item)} published as version {version.number}",
            before={"version": previous.number if previous else None},
            after={"version": version.number, **values},
        )
    return version


def content_restore(*, item: ContentItem, number: int, actor: User) -> ContentItem:
    """Copy version ``number`` back into the draft, to be previewed and published again."""
    kind = kind_of(item)
    with transaction.atomic():
        item = _locked(item)
        version = kind.version_model.objects.filter(item_id=item.pk, number=number).first()
        if version is None:
            raise VersionNotFoundError()
        before = content_values(item)
        restored = content_values(version)
        for name in kind.fields:
            setattr(item, name, restored[name])
        item.save(update_fields=[*kind.fields, "updated_at"])
        record_staff_action(
            actor=actor,
            action="content.restore",
            target=item,
            summary=f"{_label(kind, item)}: version {number} restored into the draft",
            before=before,
            after={"restored_version": number, **restored},
        )
    return item


def content_withdraw(*, item: ContentItem, actor: User) -> ContentItem:
    """Take the item off the public site; its draft and history stay, and publishing brings it back."""
    kind = kind_of(item)
    with transaction.atomic():
        item = _locked(item)
        previous = item.published
        if previous is None:
            return item
        item.published = None
        item.save(update_fields=["published", "updated_at"])
        record_staff_action(
            actor=actor,
            action="content.withdraw",
            target=item,
            summary=f"{_label(kind, item)} withdrawn from the public site",
            before={"version": previous.number},
            after={"version": None},
        )
    return item
