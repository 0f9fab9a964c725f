"""Who may download a generated file: decided per file by the rule whose
name the file stores (``GeneratedFile.permission``).

The apps that make files register their rules here when they start
(``@rule("results.export")`` in a module their AppConfig.ready() imports), so
this low layer asks them without importing them. A file whose rule is not
registered goes to nobody. For the authorization layer (docs/roles.md) the
whole question is the permission ``files.download`` on the file.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import rules

from .models import GeneratedFile

Rule = Callable[[GeneratedFile, Any], bool]

_RULES: dict[str, Rule] = {}


def rule(name: str) -> Callable[[Rule], Rule]:
    """Register ``func(generated_file, user) -> bool`` as the rule ``name``."""

    def register(func: Rule) -> Rule:
        _RULES[name] = func
        return func

    return register


def may_download(generated: GeneratedFile, user) -> bool:
    """Signed-in users whom the file's rule lets in; nobody else."""
    if not getattr(user, "is_authenticated", False):
        return False
    decide = _RULES.get(generated.permission)
    return bool(decide and decide(generated, user))


@rules.predicate
def _file_rule_allows(user, generated: GeneratedFile | None) -> bool:
    return generated is not None and may_download(generated, user)


rules.add_perm("files.download", _file_rule_allows)
