"""Small text helpers shared by the command line and the benchmark (stdlib only)."""

from __future__ import annotations

__all__ = ["split_top_level"]

_DEPTH = {"(": 1, "[": 1, ")": -1, "]": -1}


def split_top_level(text: str, separator: str = ",") -> list[str]:
    """Split ``text`` at ``separator`` outside brackets and parentheses.

    Method variants such as ``focal[gamma=1,hidden_layer_sizes=(4, 4)]``
    contain commas that belong to the variant, not to the list.

    Examples
    --------
    >>> from skfocal._text import split_top_level
    >>> split_top_level("ce,focal[gamma=1,lr=2e-3],lightgbm")
    ['ce', 'focal[gamma=1,lr=2e-3]', 'lightgbm']
    """
    parts, current, depth = [], [], 0
    for char in text:
        depth += _DEPTH.get(char, 0)
        if char == separator and depth == 0:
            parts.append("".join(current))
            current = []
        else:
            current.append(char)
    parts.append("".join(current))
    return parts
