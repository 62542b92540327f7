"""Who may pull, push or delete which repositories: the `[[auth.policy]]` rules of the config.

Each rule names a repository glob (`*` matches any run of characters, `/` included; `${user}`
stands for the authenticated user's name, for personal namespaces), the users it applies to
(names, `@group` for a group from `auth.groups`, `*` for any authenticated user), the actions it
grants them, and the actions it grants anonymous clients. Grants add up across the rules that
match; nothing is granted that no rule grants. Without any rule, every authenticated user may
do everything and anonymous clients nothing, which is CNCF distribution's htpasswd behaviour.

Actions are the token-auth spec's: `pull`, `push`, `delete`, `*` for all three, and `catalog`
for listing `/v2/_catalog` (granted by a rule whose repository glob is `*`).
"""

from __future__ import annotations

import fnmatch
from collections.abc import Iterable
from dataclasses import dataclass

from porter_registry.actions import CATALOG, DELETE, PULL, PUSH
from porter_registry.config import ConfigError, PolicyRule

REPOSITORY_ACTIONS = frozenset({PULL, PUSH, DELETE})
KNOWN_ACTIONS = REPOSITORY_ACTIONS | {CATALOG, "*"}
ANY_USER = "*"
USER_PLACEHOLDER = "${user}"


class PolicyError(ConfigError):
    """The policy in the config cannot be used; the message names the rule and why."""


@dataclass(frozen=True)
class Rule:
    """One parsed policy rule."""

    repository: str
    users: frozenset[str]
    actions: frozenset[str]
    anonymous: frozenset[str]

    def matches(self, repository: str, user: str | None) -> bool:
        glob = self.repository
        if USER_PLACEHOLDER in glob:
            if user is None:
                return False
            glob = self.repository.replace(USER_PLACEHOLDER, _escape_glob(user))
        return fnmatch.fnmatchcase(repository, glob)


def _escape_glob(text: str) -> str:
    return "".join(f"[{c}]" if c in "*?[]" else c for c in text)


def _actions(values: Iterable[str], where: str) -> frozenset[str]:
    actions: set[str] = set()
    for value in values:
        if value not in KNOWN_ACTIONS:
            known = ", ".join(sorted(KNOWN_ACTIONS))
            raise PolicyError(f"{where}: unknown action {value!r} (known: {known})")
        actions |= REPOSITORY_ACTIONS if value == "*" else {value}
    return frozenset(actions)


def parse_groups(entries: Iterable[str]) -> dict[str, frozenset[str]]:
    """`auth.groups` entries, each `NAME=user1,user2`, as name -> members."""
    groups: dict[str, frozenset[str]] = {}
    for entry in entries:
        name, sep, members = entry.partition("=")
        name = name.strip()
        if not sep or not name:
            raise PolicyError(f"auth.groups entry {entry!r}: expected NAME=user1,user2")
        if name in groups:
            raise PolicyError(f"auth.groups: group {name!r} is defined twice")
        groups[name] = frozenset(m.strip() for m in members.split(",") if m.strip())
    return groups


class AccessPolicy:
    """Answers what a user (or an anonymous client, `user=None`) may do to a repository."""

    def __init__(self, rules: Iterable[PolicyRule], groups: Iterable[str] = ()) -> None:
        self.groups = parse_groups(groups)
        parsed = [self._parse(rule, i) for i, rule in enumerate(rules)]
        if not parsed:
            everything = frozenset(REPOSITORY_ACTIONS | {CATALOG})
            parsed = [Rule("*", frozenset({ANY_USER}), everything, frozenset())]
        self.rules = tuple(parsed)

    def _parse(self, rule: PolicyRule, index: int) -> Rule:
        where = f"auth.policy[{index}]"
        if not rule.repository:
            raise PolicyError(f"{where}: repository glob is empty")
        for user in rule.users:
            if user.startswith("@") and user[1:] not in self.groups:
                raise PolicyError(f"{where}: unknown group {user[1:]!r} (see auth.groups)")
        return Rule(
            rule.repository,
            frozenset(rule.users),
            _actions(rule.actions, f"{where}.actions"),
            _actions(rule.anonymous, f"{where}.anonymous"),
        )

    def _applies_to(self, rule: Rule, user: str) -> bool:
        if ANY_USER in rule.users or user in rule.users:
            return True
        return any(u.startswith("@") and user in self.groups[u[1:]] for u in rule.users)

    def granted(self, user: str | None, repository: str) -> frozenset[str]:
        """Every action the policy grants `user` on `repository`."""
        actions: set[str] = set()
        for rule in self.rules:
            if not rule.matches(repository, user):
                continue
            actions |= rule.anonymous
            if user is not None and self._applies_to(rule, user):
                actions |= rule.actions
        return frozenset(actions & REPOSITORY_ACTIONS)

    def allows_catalog(self, user: str | None) -> bool:
        """Listing every repository is granted only by a rule over all of them (`*`)."""
        return any(
            rule.repository == "*"
            and (
                CATALOG in rule.anonymous
                or (user is not None and CATALOG in rule.actions and self._applies_to(rule, user))
            )
            for rule in self.rules
        )

    def allows(self, user: str | None, repository: str | None, actions: Iterable[str]) -> bool:
        """True when every one of `actions` is granted (`repository` None: registry-wide)."""
        wanted = set(actions)
        if repository is None:
            return CATALOG not in wanted or self.allows_catalog(user)
        return wanted <= self.granted(user, repository)
