"""Who may do what: roles, token scopes and the one table that decides.

Every front door (API, web, CLI acting for a user) asks ``allowed(principal, action)`` and
scopes its queries with ``team_filter``; nothing else decides. Team scoping is a SQL
condition on the owning team, so lists, counts and details never see another team's rows
(a request for one by id finds nothing: 404, not 403).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from sqlalchemy import false, true


class Role(StrEnum):
    ADMIN = "admin"
    SECURITY = "security"
    """All teams: reads, triages, approves exceptions."""
    MANAGER = "manager"
    """Own teams: reads, triages, approves within limits."""
    ENGINEER = "engineer"
    """Own teams: reads and triages."""
    AUDITOR = "auditor"
    """Everything, read-only, the audit log included."""


class TokenScope(StrEnum):
    INGEST = "ingest"
    """Import reports into the team's services; read nothing."""
    READ = "read"
    """Read the team's inventory, findings and imports."""
    WRITE = "write"
    """Read, import and triage for the team, and keep its services' inventory current."""


class Action(StrEnum):
    READ = "read"
    """Inventory, findings, imports of the principal's teams."""
    IMPORT = "import"
    TRIAGE = "triage"
    APPROVE = "approve"
    """Decide on exceptions and risk acceptances (the risk issue sets the limits)."""
    EDIT_INVENTORY = "edit_inventory"
    READ_AUDIT = "read_audit"
    ADMINISTER = "administer"
    """Users and tokens."""


_ROLE_ACTIONS: dict[Role, frozenset[Action]] = {
    Role.ADMIN: frozenset(Action),
    Role.SECURITY: frozenset(
        {Action.READ, Action.IMPORT, Action.TRIAGE, Action.APPROVE, Action.EDIT_INVENTORY}
    ),
    Role.MANAGER: frozenset({Action.READ, Action.IMPORT, Action.TRIAGE, Action.APPROVE}),
    Role.ENGINEER: frozenset({Action.READ, Action.IMPORT, Action.TRIAGE}),
    Role.AUDITOR: frozenset({Action.READ, Action.READ_AUDIT}),
}
_SCOPE_ACTIONS: dict[TokenScope, frozenset[Action]] = {
    TokenScope.INGEST: frozenset({Action.IMPORT}),
    TokenScope.READ: frozenset({Action.READ}),
    TokenScope.WRITE: frozenset({Action.READ, Action.IMPORT, Action.TRIAGE, Action.EDIT_INVENTORY}),
}
ALL_TEAMS_ROLES = frozenset({Role.ADMIN, Role.SECURITY, Role.AUDITOR})


@dataclass(frozen=True)
class Principal:
    """Who is acting: a user with a role, or an API token with a scope; and on which teams."""

    actor: str
    """As the audit log names it: ``user:EMAIL`` or ``token:NAME``."""
    actions: frozenset[Action]
    team_ids: frozenset[int] = field(default_factory=frozenset)
    all_teams: bool = False

    @classmethod
    def for_user(cls, email: str, role: Role, team_ids: frozenset[int]) -> Principal:
        return cls(
            actor=f"user:{email}",
            actions=_ROLE_ACTIONS[role],
            team_ids=team_ids,
            all_teams=role in ALL_TEAMS_ROLES,
        )

    @classmethod
    def for_token(cls, name: str, scope: TokenScope, team_id: int) -> Principal:
        return cls(
            actor=f"token:{name}", actions=_SCOPE_ACTIONS[scope], team_ids=frozenset({team_id})
        )

    def allowed(self, action: Action) -> bool:
        return action in self.actions

    def team_filter(self, team_column: Any) -> Any:
        """A SQL condition on a row's owning team (``Service.team_id``): true for every row
        this principal may see."""
        if self.all_teams:
            return true()
        if not self.team_ids:
            return false()
        return team_column.in_(sorted(self.team_ids))
