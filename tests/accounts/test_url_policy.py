"""Every URL of the portal is classified in ``accounts/url_policy.py`` (access.md): a URL added without
an entry fails here, listing what is missing, so the access matrix can never silently skip it."""

from collections.abc import Iterator

from django.urls import URLPattern, URLResolver, get_resolver

from accounts.access import ROLE_WRITES
from accounts.url_policy import FIXED_KINDS, OBJECT_LEVEL, POLICY, ROLES, UNNAMED, Rule, rule_for


def url_patterns(
    resolver: URLResolver | None = None, prefix: str = "", namespace: str | None = None
) -> Iterator[tuple[str | None, str | None, str, URLPattern]]:
    """(namespace, name, full route, pattern) of every URL pattern, recursively (API router and admin too)."""
    resolver = resolver or get_resolver()
    for pattern in resolver.url_patterns:
        if isinstance(pattern, URLResolver):
            yield from url_patterns(pattern, prefix + str(pattern.pattern), pattern.namespace or namespace)
        else:
            yield namespace, pattern.name, prefix + str(pattern.pattern), pattern


def classified() -> list[tuple[str | None, str, Rule]]:
    """(name, full route, rule) of every classified pattern; the admin is one group."""
    return [
        (name, route, rule)
        for namespace, name, route, pattern in url_patterns()
        if (rule := rule_for(name, namespace, str(pattern.pattern))) is not None
    ]


def test_every_url_is_classified():
    missing = [
        f"{route}  (name={name!r})"
        for namespace, name, route, pattern in url_patterns()
        if rule_for(name, namespace, str(pattern.pattern)) is None
    ]
    assert not missing, "URLs missing from accounts/url_policy.py POLICY:\n" + "\n".join(missing)


def test_the_policy_names_only_known_kinds_and_writes():
    known_writes = set().union(*ROLE_WRITES.values()) | {"finance"}
    problems = []
    for name, rule in [*POLICY.items(), *UNNAMED.items()]:
        for keyword, kind in rule.objects.items():
            if kind not in OBJECT_LEVEL and kind not in FIXED_KINDS:
                problems.append(f"{name}: URL keyword {keyword} has unknown kind {kind!r}")
        for kind in (*rule.write, *rule.get_write):
            if kind not in known_writes:
                problems.append(f"{name}: write kind {kind!r} is not in accounts.access.ROLE_WRITES")
        if rule.access == ROLES and not rule.roles:
            problems.append(f"{name}: a ROLES rule must name its roles")
        if rule.method and not (rule.write or rule.permission or rule.note):
            problems.append(f"{name}: a write route needs its write kind, permission or a note")
    assert not problems, "\n".join(problems)


def test_url_keywords_match_the_policy():
    """Each pattern's keywords are exactly the ones the rule describes (so the matrix can fill them)."""
    problems = []
    for namespace, name, route, pattern in url_patterns():
        rule = rule_for(name, namespace, str(pattern.pattern))
        if rule is None or namespace == "admin":
            continue
        keywords = set(pattern.pattern.regex.groupindex)
        if keywords != set(rule.objects):
            problems.append(f"{route} ({name}): URL keywords {sorted(keywords)} but policy {sorted(rule.objects)}")
    assert not problems, "\n".join(problems)
