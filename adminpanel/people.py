"""The staff panel's People pages (F-X1): the person search, a person's support page (its sections
come from adminpanel.support_sections), blocking and unblocking, and the staff audit log search
with its CSV export. Thin doors: reads through selectors, writes through accounts' services."""

import csv
from typing import Any

from django.contrib import messages
from django.core.paginator import Paginator
from django.db import transaction
from django.db.models import Q
from django.http import HttpResponse, StreamingHttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from accounts import blocking
from accounts.decorators import staff_required
from accounts.models import StaffInvitation, User
from accounts.request_types import AuthenticatedHttpRequest
from accounts.staff_audit import record_staff_action
from accounts.staff_roles import STAFF_ROLES, staff_roles_of, staff_roles_set
from adminpanel import invitations
from adminpanel.forms import (
    AuditFilterForm,
    BlockReasonForm,
    InviteForm,
    PersonCreateForm,
    StaffFindForm,
    StaffRolesForm,
    UserSearchForm,
)
from adminpanel.people_selectors import staff_audit_search, user_search
from adminpanel.support_sections import sections_for
from cashback.errors import DomainError, form_error_from

PAGE_SIZE = 25
VIEW_USER = "accounts.view_user"
BLOCK_USER = "accounts.block_user"
VIEW_AUDIT = "accounts.view_staffauditentry"
EXPORT_AUDIT = "accounts.export_staffauditentry"
EXPORT_LIMIT = 100_000


@staff_required(VIEW_USER)
def user_list(request: AuthenticatedHttpRequest) -> HttpResponse:
    form = UserSearchForm(request.GET or None)
    query = form.cleaned_data["q"] if form.is_valid() else ""
    people = user_search(query=query).prefetch_related("groups")
    page_obj = Paginator(people, PAGE_SIZE).get_page(request.GET.get("page"))
    return render(
        request, "adminpanel/user_list.html", {"section": "users", "form": form, "query": query, "page_obj": page_obj}
    )


def _support_page(
    request: AuthenticatedHttpRequest, person: User, *, status: int = 200, block_form: Any = None
) -> HttpResponse:
    sections = [
        {"section": section, "context": section.context(person)} for section in sections_for(viewer=request.user)
    ]
    context = {
        "section": "users",
        "person": person,
        "sections": sections,
        "can_block": request.user.has_perm(BLOCK_USER),
        "can_invite": request.user.has_perm(ADD_USER),
        "can_change_roles": request.user.has_perm(CHANGE_ROLES),
        "invite_form": InviteForm(),
        "block_form": block_form or BlockReasonForm(),
    }
    return render(request, "adminpanel/user_detail.html", context, status=status)


@staff_required(VIEW_USER)
def user_detail(request: AuthenticatedHttpRequest, user_id: int) -> HttpResponse:
    person = get_object_or_404(User, pk=user_id, erased_at__isnull=True)
    # Opening a person's support page is itself a staff action the log must answer for (F-X7).
    record_staff_action(
        actor=request.user, action="user.view_support", target=person, summary="Viewed the support page"
    )
    return _support_page(request, person)


def _block_action(request: AuthenticatedHttpRequest, user_id: int, *, unblock: bool) -> HttpResponse:
    person = get_object_or_404(User, pk=user_id, erased_at__isnull=True)
    form = BlockReasonForm(request.POST)
    if not form.is_valid():
        return _support_page(request, person, status=400, block_form=form)
    service = blocking.user_unblock if unblock else blocking.user_block
    try:
        service(user=person, actor=request.user, reason=form.cleaned_data["reason"])
    except DomainError as error:
        form_error_from(form, error)
        return _support_page(request, person, status=error.http_status, block_form=form)
    messages.success(request, "The account was unblocked." if unblock else "The account was blocked.")
    return redirect("adminpanel:user_detail", user_id=person.pk)


@require_POST
@staff_required(VIEW_USER, BLOCK_USER)
def user_block(request: AuthenticatedHttpRequest, user_id: int) -> HttpResponse:
    return _block_action(request, user_id, unblock=False)


@require_POST
@staff_required(VIEW_USER, BLOCK_USER)
def user_unblock(request: AuthenticatedHttpRequest, user_id: int) -> HttpResponse:
    return _block_action(request, user_id, unblock=True)


# --- The staff audit log (F-X7) ------------------------------------------------------------------


def _audit_entries(form: AuditFilterForm) -> Any:
    filters = form.cleaned_data if form.is_valid() else {}
    return staff_audit_search(
        actor=filters.get("actor", ""),
        action=filters.get("action", ""),
        target=filters.get("target", ""),
        date_from=filters.get("date_from"),
        date_to=filters.get("date_to"),
    )


@staff_required(VIEW_AUDIT)
def audit_list(request: AuthenticatedHttpRequest) -> HttpResponse:
    form = AuditFilterForm(request.GET or None)
    page_obj = Paginator(_audit_entries(form), PAGE_SIZE).get_page(request.GET.get("page"))
    context = {
        "section": "audit",
        "form": form,
        "filtered": bool(request.GET.dict().keys() - {"page"}),
        "page_obj": page_obj,
        "can_export": request.user.has_perm(EXPORT_AUDIT),
        "export_query": request.GET.urlencode(),
    }
    return render(
        request, "adminpanel/audit_list.html", context, status=200 if form.is_valid() or not request.GET else 400
    )


class _Echo:
    def write(self, value: str) -> str:
        return value


AUDIT_COLUMNS = (
    "id",
    "created_at",
    "actor_id",
    "actor_role",
    "action",
    "target_type",
    "target_id",
    "summary",
    "before",
    "after",
)


@staff_required(VIEW_AUDIT, EXPORT_AUDIT)
def audit_export(request: AuthenticatedHttpRequest) -> HttpResponse:
    form = AuditFilterForm(request.GET or None)
    if request.GET and not form.is_valid():
        return HttpResponse("The filters are not valid.", status=400, content_type="text/plain")
    entries = _audit_entries(form)
    with transaction.atomic():
        record_staff_action(
            actor=request.user,
            action="audit.export",
            summary="Exported the staff audit log",
            after=form.cleaned_data if request.GET else {},
        )
    writer = csv.writer(_Echo())

    def rows() -> Any:
        yield writer.writerow(AUDIT_COLUMNS)
        for entry in entries[:EXPORT_LIMIT].iterator(chunk_size=2000):
            yield writer.writerow(
                [
                    entry.pk,
                    entry.created_at.isoformat(),
                    entry.actor_id or "",
                    entry.actor_role,
                    entry.action,
                    entry.target_type,
                    entry.target_id,
                    entry.summary,
                    "" if entry.before is None else entry.before,
                    "" if entry.after is None else entry.after,
                ]
            )

    response = StreamingHttpResponse(rows(), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = 'attachment; filename="staff-audit-log.csv"'
    return response  # type: ignore[return-value]  # streamed: the guard's type names the usual response


# --- Creating accounts and inviting people (F-A2) -------------------------------------------------

ADD_USER = "accounts.add_user"


@staff_required(VIEW_USER, ADD_USER)
def user_create(request: AuthenticatedHttpRequest) -> HttpResponse:
    form = PersonCreateForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        person = invitations.person_create(
            email=data["email"],
            phone=data["phone"],
            full_name=data["full_name"],
            channel=data["channel"],
            actor=request.user,
        )
        messages.success(request, _("The account was created and the invitation is on its way."))
        return redirect("adminpanel:user_detail", user_id=person.pk)
    status = 400 if request.method == "POST" else 200
    return render(request, "adminpanel/user_create.html", {"section": "users", "form": form}, status=status)


@require_POST
@staff_required(VIEW_USER, ADD_USER)
def user_invite(request: AuthenticatedHttpRequest, user_id: int) -> HttpResponse:
    person = get_object_or_404(User, pk=user_id, erased_at__isnull=True)
    form = InviteForm(request.POST)
    channel = form.cleaned_data["channel"] if form.is_valid() else ""
    if channel == StaffInvitation.Channel.EMAIL and not person.email:
        messages.error(request, _("This person has no e-mail address to invite."))
    elif channel == StaffInvitation.Channel.SMS and not person.phone:
        messages.error(request, _("This person has no phone number to invite."))
    elif not channel:
        messages.error(request, _("Choose e-mail or SMS."))
    else:
        invitations.invitation_send(user=person, channel=channel, actor=request.user)
        messages.success(request, _("A new invitation is on its way; earlier links stop working."))
    return redirect("adminpanel:user_detail", user_id=person.pk)


# --- Staff roles (administrators only) -------------------------------------------------------------

CHANGE_ROLES = "auth.change_group"


@staff_required(CHANGE_ROLES)
def role_list(request: AuthenticatedHttpRequest) -> HttpResponse:
    form = StaffFindForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        person = User.objects.filter(email__iexact=form.cleaned_data["email"], erased_at__isnull=True).first()
        if person is not None:
            return redirect("adminpanel:role_edit", user_id=person.pk)
        form.add_error("email", _("Nobody has an account with this e-mail address. Create it under People first."))
    staff = (
        User.objects.filter(Q(is_staff=True) | Q(groups__name__in=STAFF_ROLES)).distinct().prefetch_related("groups")
    )
    page_obj = Paginator(staff.order_by("email", "id"), PAGE_SIZE).get_page(request.GET.get("page"))
    rows = [(member, staff_roles_of(member)) for member in page_obj.object_list]
    context = {"section": "roles", "form": form, "page_obj": page_obj, "rows": rows}
    return render(request, "adminpanel/role_list.html", context, status=400 if form.errors else 200)


@staff_required(CHANGE_ROLES)
def role_edit(request: AuthenticatedHttpRequest, user_id: int) -> HttpResponse:
    person = get_object_or_404(User, pk=user_id, erased_at__isnull=True)
    form = StaffRolesForm(request.POST if request.method == "POST" else None, initial={"roles": staff_roles_of(person)})
    status = 200
    if request.method == "POST":
        status = 400
        if form.is_valid():
            try:
                staff_roles_set(user=person, roles=form.cleaned_data["roles"], actor=request.user)
            except DomainError as error:
                form_error_from(form, error)
                status = error.http_status
            else:
                messages.success(request, _("The staff roles were saved."))
                return redirect("adminpanel:role_list")
    return render(
        request, "adminpanel/role_edit.html", {"section": "roles", "person": person, "form": form}, status=status
    )
