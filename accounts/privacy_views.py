"""The "Your data" page of the account settings: download my data, close my account (F-A5)."""

from django.contrib import messages
from django.contrib.auth import logout
from django.contrib.auth.decorators import login_required
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.http.response import HttpResponseBase
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from accounts import data_export, erasure, selectors
from accounts.errors import (
    DataExportExpiredError,
    DataExportNotFoundError,
    DataExportNotReadyError,
    ErasureBlockedError,
    ErasureNotAcknowledgedError,
)
from accounts.privacy_forms import CONFIRMATION_WORD, ErasureForm
from accounts.request_types import AuthenticatedHttpRequest
from cashback.errors import form_error_from


def _page(request: AuthenticatedHttpRequest, form: ErasureForm, *, status: int = 200) -> HttpResponse:
    user = request.user
    context = {
        "export": selectors.data_export_latest(user=user),
        "blockers": erasure.erasure_blockers(user=user),
        "form": form,
        "confirmation_word": CONFIRMATION_WORD,
    }
    return render(request, "accounts/privacy.html", context, status=status)


@login_required
def privacy(request: AuthenticatedHttpRequest) -> HttpResponse:
    return _page(request, ErasureForm(user=request.user))


@login_required
@require_POST
def export_start(request: AuthenticatedHttpRequest) -> HttpResponse:
    _export, started = data_export.data_export_start(user=request.user)
    if started:
        messages.success(request, _("We are preparing your data. This page shows when it is ready."))
    return redirect("accounts:privacy")


@login_required
def export_status(request: AuthenticatedHttpRequest) -> HttpResponse:
    """The export's box alone, for the page's polling while it is being prepared."""
    return render(request, "accounts/_export_status.html", {"export": selectors.data_export_latest(user=request.user)})


@login_required
def export_download(request: AuthenticatedHttpRequest, export_id: int) -> HttpResponseBase:
    try:
        export = data_export.data_export_for_download(user=request.user, export_id=export_id)
    except DataExportNotFoundError:
        raise Http404("No such export.") from None
    except (DataExportExpiredError, DataExportNotReadyError) as error:
        return render(request, "accounts/export_unavailable.html", {"error": error}, status=error.http_status)
    return FileResponse(export.file.open("rb"), as_attachment=True, filename=data_export.data_export_filename(export))


@login_required
@require_POST
def close_account(request: AuthenticatedHttpRequest) -> HttpResponse:
    form = ErasureForm(request.POST, user=request.user)
    if not form.is_valid():
        return _page(request, form)
    try:
        erasure.account_erase(user=request.user, acknowledged=form.cleaned_data.get("acknowledge") or ())
    except ErasureNotAcknowledgedError as error:  # points arrived since the page was shown
        form.add_error(None, error.message)
        return _page(request, form, status=409)
    except ErasureBlockedError as error:
        form_error_from(form, error)
        return _page(request, form, status=409)
    logout(request)
    return redirect("accounts:closed")


def closed(request: HttpRequest) -> HttpResponse:
    return render(request, "accounts/closed.html")
