"""Domain errors raised by the programmes services. Codes are stable: pages and tests rely on them."""

from django.utils.translation import gettext_lazy

from cashback.errors import ConflictError, DomainError, NotFoundError, PermissionDeniedError


class NotBrandOwnerError(NotFoundError):
    code = "not_brand_owner"
    default_message = gettext_lazy("This merchant runs no programmes.")


class RoleNotAllowedError(PermissionDeniedError):
    code = "programme_role_not_allowed"
    default_message = gettext_lazy("Your programme role does not allow this.")


class RegionNotAllowedError(PermissionDeniedError):
    code = "programme_region_not_allowed"
    default_message = gettext_lazy("This region is not one of yours.")


class DuplicateCustomerCodeError(ConflictError):
    code = "duplicate_customer_code"
    default_message = gettext_lazy("A business customer with this code is already registered.")


class InvalidPhoneError(DomainError):
    code = "invalid_phone"
    default_message = gettext_lazy("Enter a valid mobile number, e.g. +47 912 34 567.")


class InvalidProgrammeError(DomainError):
    code = "invalid_programme"
    default_message = gettext_lazy("The programme is not valid.")


class TierWithoutRewardError(InvalidProgrammeError):
    code = "tier_without_reward"
    default_message = gettext_lazy("Every target needs a reward greater than zero.")


class ContractOutsidePeriodError(DomainError):
    code = "contract_outside_period"
    default_message = gettext_lazy("The contract must start and expire within the programme's period.")


class ContractAlreadyOpenError(ConflictError):
    code = "contract_already_open"
    default_message = gettext_lazy("This customer already has a proposed or approved contract in this programme.")


class ContractNotProposedError(ConflictError):
    code = "contract_not_proposed"
    default_message = gettext_lazy("Only a proposed contract can be approved or rejected.")


class NoRegionBudgetError(DomainError):
    code = "no_region_budget"
    default_message = gettext_lazy("The programme has no budget in the customer's region.")


class BudgetExceededError(ConflictError):
    code = "budget_exceeded"
    default_message = gettext_lazy("The region's budget left is not enough for this contract's rewards.")


class BudgetBelowCommittedError(DomainError):
    code = "budget_below_committed"
    default_message = gettext_lazy("The budget cannot be lower than what approved contracts already committed.")


class SalesFileError(DomainError):
    """A sales CSV with bad rows: ``rows`` lists (line number, message); nothing of it was applied."""

    code = "invalid_sales_file"
    default_message = gettext_lazy("The file has errors; nothing of it was applied.")

    def __init__(self, message: str | None = None, *, rows: list[tuple[int, str]]) -> None:
        self.rows = rows
        super().__init__(message)


class DuplicateSalesFileError(ConflictError):
    code = "duplicate_sales_file"
    default_message = gettext_lazy("This file was uploaded before; nothing of it was applied again.")


# --- Rewards for actions, master data, closing contracts ------------------------------------------


class InvalidActionRuleError(DomainError):
    code = "invalid_action_rule"
    default_message = gettext_lazy("The action rule is not valid.")


class ActionNotReportableError(DomainError):
    code = "action_not_reportable"
    default_message = gettext_lazy("This action is reported by the platform itself, not by a partner.")


class ActionAlreadyReportedError(ConflictError):
    code = "action_already_reported"
    default_message = gettext_lazy("An event with this id was reported before for another member or action.")


class PointsUnavailableError(DomainError):
    code = "points_unavailable"
    default_message = gettext_lazy("Points cannot be awarded yet; choose cash.")


class DuplicateMasterDataError(ConflictError):
    code = "duplicate_master_data"
    default_message = gettext_lazy("One with this name already exists.")


class ContractNotOpenError(ConflictError):
    code = "contract_not_open"
    default_message = gettext_lazy("Only an approved or proposed contract can be cancelled.")


class InvalidSourceLinkError(DomainError):
    code = "invalid_source_link"
    default_message = gettext_lazy("This purchase source cannot be linked.")


class SourceAlreadyLinkedError(ConflictError):
    code = "source_already_linked"
    default_message = gettext_lazy("This source is already linked to a business customer.")


class MasterDataInUseError(ConflictError):
    code = "master_data_in_use"
    default_message = gettext_lazy("Something still uses it, so it cannot be removed.")


class LastProgrammeAdminError(ConflictError):
    code = "last_programme_admin"
    default_message = gettext_lazy("The last programme admin cannot be removed; give someone else the role first.")
