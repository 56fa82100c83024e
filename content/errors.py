from django.utils.translation import gettext_lazy

from cashback.errors import ConflictError, NotFoundError


class NothingToPublishError(ConflictError):
    code = "nothing_to_publish"
    default_message = gettext_lazy("The draft is the same as the published version: there is nothing to publish.")


class VersionNotFoundError(NotFoundError):
    code = "content_version_not_found"
    default_message = gettext_lazy("That version does not exist.")
