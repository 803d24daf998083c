"""Numbers read from query strings and forms, parsed one way everywhere.

``str.isdigit()`` is true for "²" or "١" (superscript and Arabic-Indic digits), which
``int()`` or the database then refuse with a server error; only ASCII digits are numbers
here. A bad or out-of-range value is ignored: the view falls back to its default (the
unfiltered list, the newest version), as it does for a missing one."""

import re

_DIGITS = re.compile(r"[0-9]{1,18}")  # 18 digits always fit in a 64-bit integer


def to_int(value, default=None, *, min: int | None = None, max: int | None = None) -> int | None:
    """``value`` as a whole number when it is an int or a string of ASCII digits within
    ``min`` .. ``max``; otherwise ``default``."""
    if isinstance(value, bool):
        return default
    if isinstance(value, int):
        number = value
    elif isinstance(value, str) and _DIGITS.fullmatch(value):
        number = int(value)
    else:
        return default
    if (min is not None and number < min) or (max is not None and number > max):
        return default
    return number


def int_param(params, name: str, default=None, *, min: int | None = 1, max: int | None = None) -> int | None:
    """A whole number from a QueryDict (``request.GET``) or dict: ``int_param(request.GET,
    "kecamatan")`` is None unless the parameter is an ASCII-digit number >= 1."""
    return to_int(params.get(name), default, min=min, max=max)
