"""Permission matrices: a table of (view, method) → expected status per role,
either one tuple for both states or {"before": …, "after": …} publication.
``cases`` turns it into pytest parameters: page, method, state, role, status."""

from __future__ import annotations

from collections.abc import Sequence

import pytest

STATES = ["before", "after"]


def expected(matrix: dict, page: tuple[str, str], state: str) -> tuple:
    answers = matrix[page]
    return answers[state] if isinstance(answers, dict) else answers


def cases(matrix: dict, roles: Sequence[str]) -> list:
    return [
        pytest.param(
            page,
            method,
            state,
            role,
            expected(matrix, (page, method), state)[i],
            id=f"{page}-{method}-{state}-{role}",
        )
        for (page, method) in matrix
        for state in STATES
        for i, role in enumerate(roles)
    ]
