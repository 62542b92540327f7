"""The per-repository access policy of `[[auth.policy]]`."""

from __future__ import annotations

import pytest
from porter_registry.access_policy import AccessPolicy, PolicyError
from porter_registry.config import PolicyRule


def rule(repository: str, users=(), actions=(), anonymous=()) -> PolicyRule:
    return PolicyRule(repository, tuple(users), tuple(actions), tuple(anonymous))


def test_without_rules_every_user_may_do_everything_and_anonymous_nothing() -> None:
    policy = AccessPolicy([])
    assert policy.granted("anyone", "any/repo") == {"pull", "push", "delete"}
    assert policy.granted(None, "any/repo") == frozenset()
    assert policy.allows_catalog("anyone")
    assert not policy.allows_catalog(None)


def test_a_rule_grants_its_actions_to_its_users_on_matching_repositories_only() -> None:
    policy = AccessPolicy([rule("team/*", ["alice"], ["pull", "push"])])
    assert policy.granted("alice", "team/app") == {"pull", "push"}
    assert policy.granted("alice", "other/app") == frozenset()
    assert policy.granted("bob", "team/app") == frozenset()


def test_a_glob_star_crosses_slashes() -> None:
    policy = AccessPolicy([rule("team/*", ["alice"], ["pull"])])
    assert policy.allows("alice", "team/sub/app", ["pull"])


def test_grants_of_matching_rules_add_up() -> None:
    policy = AccessPolicy([rule("*", ["*"], ["pull"]), rule("team/*", ["alice"], ["push"])])
    assert policy.granted("alice", "team/app") == {"pull", "push"}
    assert policy.granted("bob", "team/app") == {"pull"}


def test_anonymous_pull_is_granted_per_repository() -> None:
    policy = AccessPolicy([rule("public/*", anonymous=["pull"])])
    assert policy.allows(None, "public/app", ["pull"])
    assert not policy.allows(None, "public/app", ["pull", "push"])
    assert not policy.allows(None, "private/app", ["pull"])


def test_groups_are_named_with_an_at_sign() -> None:
    policy = AccessPolicy([rule("*", ["@ops"], ["delete"])], groups=["ops=carol, dave"])
    assert policy.allows("dave", "x", ["delete"])
    assert not policy.allows("erin", "x", ["delete"])


def test_a_user_placeholder_gives_each_user_a_namespace() -> None:
    policy = AccessPolicy([rule("${user}/*", ["*"], ["*"])])
    assert policy.allows("alice", "alice/app", ["push"])
    assert not policy.allows("alice", "bob/app", ["pull"])
    assert not policy.allows(None, "alice/app", ["pull"])


def test_a_user_name_with_glob_characters_matches_only_itself() -> None:
    policy = AccessPolicy([rule("${user}/*", ["*"], ["pull"])])
    assert not policy.allows("*", "bob/app", ["pull"])


def test_the_catalog_needs_a_rule_over_every_repository() -> None:
    policy = AccessPolicy([rule("team/*", ["alice"], ["catalog"]), rule("*", ["bob"], ["catalog"])])
    assert not policy.allows("alice", None, ["catalog"])
    assert policy.allows("bob", None, ["catalog"])


def test_the_version_check_needs_no_grant() -> None:
    assert AccessPolicy([rule("x", ["alice"], ["pull"])]).allows("bob", None, [])


@pytest.mark.parametrize(
    ("rules", "groups", "message"),
    [
        ([rule("*", ["alice"], ["write"])], [], r"policy\[0\].actions: unknown action 'write'"),
        ([rule("*", anonymous=["push!"])], [], r"policy\[0\].anonymous: unknown action"),
        ([rule("*", ["@nobody"], ["pull"])], [], r"policy\[0\]: unknown group 'nobody'"),
        ([rule("", ["alice"], ["pull"])], [], r"policy\[0\]: repository glob is empty"),
        ([], ["ops"], r"auth.groups entry 'ops': expected NAME=user1,user2"),
        ([], ["a=x", "a=y"], r"group 'a' is defined twice"),
    ],
)
def test_a_bad_policy_is_refused_naming_the_rule(rules, groups, message) -> None:
    with pytest.raises(PolicyError, match=message):
        AccessPolicy(rules, groups)
