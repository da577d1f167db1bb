"""Admin regular expressions (the ``pattern`` of a TEXT report field), run by RE2.

An admin's pattern runs on every answer a user submits, in the gateway's only event loop:
with a backtracking engine (Python's ``re``) a pattern like ``(a+)+b`` takes time
exponential in the answer's length and stalls every organisation. RE2 matches in time
linear in the input, and refuses what it cannot do in linear time (backreferences,
lookarounds) when the pattern is compiled, so a form can only be saved with a pattern it
will be able to run.

Semantics: the whole answer must match (``fullmatch``), as before. RE2's syntax is
Python's minus backreferences and lookarounds; ``\\d``, ``\\w`` and ``\\s`` are ASCII
classes (use ``\\p{L}``, ``\\p{N}`` for any letter or digit).
"""

from __future__ import annotations

from typing import Any

import re2

__all__ = ["MAX_PATTERN", "MAX_PATTERN_INPUT", "AnswerTooLong", "PatternError", "compile_pattern", "fullmatches"]

MAX_PATTERN = 200  # characters of a pattern (the column's size)
# The longest answer a pattern is run on. RE2 is linear, so this bounds the time of one
# match; a longer answer is refused, never passed unchecked.
MAX_PATTERN_INPUT = 10_000
# Memory RE2 may use to compile one pattern (its default is 8 MiB); ``a{1000}{1000}``-like
# blow-ups exceed it and are refused at compilation.
_MAX_MEM = 1 << 20


class PatternError(ValueError):
    """The pattern cannot be used: RE2 refuses it, or it is too long."""


class AnswerTooLong(ValueError):
    """The text is longer than :data:`MAX_PATTERN_INPUT`: it is not checked, so not accepted."""


def _options() -> Any:
    options = re2.Options()
    options.max_mem = _MAX_MEM
    options.log_errors = False  # the reason goes to the admin, not to the server's stderr
    return options


def compile_pattern(pattern: str) -> Any:
    """The compiled pattern (RE2 keeps a cache of recent ones); PatternError saying why not."""
    if len(pattern) > MAX_PATTERN:
        raise PatternError(f"The pattern is longer than {MAX_PATTERN} characters.")
    try:
        return re2.compile(pattern, _options())
    except re2.error as exc:
        reason = exc.args[0] if exc.args else ""
        if isinstance(reason, bytes):
            reason = reason.decode("utf-8", "replace")
        raise PatternError(
            f"The pattern is not a regular expression the gateway can run ({reason}); "
            "backreferences and lookarounds are not supported."
        ) from None


def fullmatches(pattern: str, text: str) -> bool:
    """Whether the whole of ``text`` matches ``pattern``; AnswerTooLong when ``text`` is
    longer than :data:`MAX_PATTERN_INPUT`, PatternError when the pattern cannot be compiled."""
    if len(text) > MAX_PATTERN_INPUT:
        raise AnswerTooLong(f"at most {MAX_PATTERN_INPUT} characters can be checked against the expected format.")
    return compile_pattern(pattern).fullmatch(text) is not None
