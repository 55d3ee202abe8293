"""Input that no field can hold is refused at the door, naming where it is.

Some values pass every field's own validation and still break the database under it:

- a NUL character (``\\x00``): PostgreSQL text cannot hold one (the driver raises), so
  ``?q=%00`` or ``{"reason": "a\\u0000"}`` was a 500 there and a silently stored control
  character on SQLite;
- a lone UTF-16 surrogate (``"\\ud800"``): it cannot be encoded for either database;
- a whole number outside a 64-bit signed column (``/patients/99999999999999999999``):
  SQLite raises ``OverflowError`` and PostgreSQL "value out of range";
- JSON that is nested thousands of levels deep (Python's parser gives up with a
  ``RecursionError``), or numbers JSON cannot say (``1e400`` reads as infinity; ``NaN``).

:func:`load_json` is the one JSON reader of the API (its parser and the monitors' vitals
endpoint). :class:`RefuseUnstorableInput` is middleware: a query or form parameter with a NUL
answers 400 on a page and 422 under ``/api/``, and an object id too large for any row is
"not found" before a view looks it up. Imports no app.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Iterator
from typing import Any

from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.template.loader import render_to_string

INT64_MIN = -(2**63)
INT64_MAX = 2**63 - 1
#: No request of this API nests deeper than a handful of levels (a batch of readings is 3).
MAX_JSON_DEPTH = 32
API_PREFIX = "/api/"
NUL = "\x00"
SURROGATE = re.compile("[\ud800-\udfff]")
OUT_OF_RANGE = f"must be a number from {INT64_MIN} to {INT64_MAX}"


class InvalidInput(ValueError):
    """A value no field can hold; ``field`` names it the way the API names fields."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}" if field else message)
        self.field = field
        self.message = message

    def as_error(self) -> dict[str, str]:
        return {"field": self.field, "message": self.message}


class _Unsayable:
    """What JSON's ``NaN``, ``Infinity`` and 4,300-digit integers read as, until named."""

    def __init__(self, message: str) -> None:
        self.message = message


NOT_FINITE = _Unsayable("must be a finite number")
TOO_LONG = _Unsayable(OUT_OF_RANGE)


def _read_int(text: str) -> int | _Unsayable:
    try:
        return int(text)
    except ValueError:  # more digits than Python converts (sys.get_int_max_str_digits)
        return TOO_LONG


def _read_int_or_inf(text: str) -> int | float:
    try:
        return int(text)
    except ValueError:
        return float(text)  # inf: the caller checks its numbers


def load_json(raw: bytes | str, *, check_numbers: bool = True) -> Any:
    """The JSON document in ``raw``, or :class:`InvalidInput` naming the first bad value.

    Refused: text that is not JSON or not UTF-8; nesting deeper than ``MAX_JSON_DEPTH``;
    numbers that are not finite or lie outside a 64-bit signed integer; NUL characters and
    lone surrogates in any string or object key. With ``check_numbers=False`` numbers are
    left to the caller (``NaN`` and ``1e400`` read as floats), who must check each one.
    """
    constant = (lambda _: NOT_FINITE) if check_numbers else float
    whole = _read_int if check_numbers else _read_int_or_inf
    try:
        document = json.loads(raw, parse_constant=constant, parse_int=whole)
    except RecursionError:
        raise InvalidInput("", _too_deep()) from None
    except ValueError:  # JSONDecodeError and UnicodeDecodeError are ValueErrors
        raise InvalidInput("", "The body is not valid JSON.") from None
    problem = first_unstorable(document, check_numbers=check_numbers)
    if problem is not None:
        raise problem
    return document


def first_unstorable(document: Any, *, check_numbers: bool = True) -> InvalidInput | None:
    """The first value in a parsed JSON document that no field can hold, or None."""
    stack: list[tuple[tuple[str, ...], Any]] = [((), document)]
    while stack:
        path, value = stack.pop()
        if len(path) > MAX_JSON_DEPTH:
            return InvalidInput(dotted(path[:MAX_JSON_DEPTH]), _too_deep())
        if isinstance(value, dict):
            for key, item in reversed(list(value.items())):
                if message := text_problem(key):
                    return InvalidInput(dotted((*path, key)), f"the field name {message}")
                stack.append(((*path, key), item))
        elif isinstance(value, list):
            stack.extend(((*path, str(i)), item) for i, item in reversed(list(enumerate(value))))
        elif message := value_problem(value, check_numbers=check_numbers):
            return InvalidInput(dotted(path), message)
    return None


def value_problem(value: Any, *, check_numbers: bool = True) -> str | None:
    if isinstance(value, _Unsayable):
        return value.message
    if isinstance(value, str):
        return text_problem(value)
    if not check_numbers or isinstance(value, bool) or value is None:
        return None
    if isinstance(value, float) and not math.isfinite(value):
        return NOT_FINITE.message
    if isinstance(value, int | float) and not INT64_MIN <= value <= INT64_MAX:
        return OUT_OF_RANGE
    return None


def text_problem(text: str) -> str | None:
    if NUL in text:
        return "must not contain NUL characters (\\x00)"
    if SURROGATE.search(text):
        return "must be valid Unicode text (it holds a lone surrogate)"
    return None


def dotted(path: tuple[str, ...]) -> str:
    """The path as the API names fields, with NUL and surrogates spelled out (storable)."""
    return ".".join(printable(part) for part in path)


def printable(text: str) -> str:
    """``text`` with NUL as ``\\x00`` and lone surrogates as ``\\udxxx``: safe to store."""
    return text.replace(NUL, "\\x00").encode("utf-8", "backslashreplace").decode()


def _too_deep() -> str:
    return f"the JSON is nested too deeply (at most {MAX_JSON_DEPTH} levels)"


# ---------------------------------------------------------------- middleware


def parameters(request: HttpRequest) -> Iterator[tuple[str, str]]:
    """Every query and form parameter as (name, value), names included as values."""
    for source in (request.GET, request.POST):
        for name, values in source.lists():
            yield name, name
            for value in values:
                if isinstance(value, str):
                    yield name, value


def nul_parameter(request: HttpRequest) -> str | None:
    """The name of the first parameter (or "path") holding a character no database stores."""
    if text_problem(request.path):
        return "path"
    for name, value in parameters(request):
        if text_problem(value):
            return printable(name)
    return None


def is_api(request: HttpRequest) -> bool:
    return request.path.startswith(API_PREFIX)


def refusal(request: HttpRequest, field: str) -> HttpResponse:
    message = f"{field}: must not contain NUL characters (\\x00) or lone surrogates"
    if is_api(request):
        return JsonResponse(
            {"message": message, "errors": [{"field": field, "message": message}]}, status=422
        )
    page = render_to_string(
        "web/input_refused.html", {"field": field, "message": message}, request=request
    )
    return HttpResponse(page, status=400)


class RefuseUnstorableInput:
    """Middleware: NUL in a parameter is refused; an id too large for a row is not found."""

    def __init__(self, get_response) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        field = nul_parameter(request)
        if field is not None:
            return refusal(request, field)
        return self.get_response(request)

    def process_view(self, request, view_func, view_args, view_kwargs) -> HttpResponse | None:
        for value in (*view_args, *view_kwargs.values()):
            if isinstance(value, int) and not INT64_MIN <= value <= INT64_MAX:
                if is_api(request):
                    return JsonResponse({"message": "Not found.", "errors": []}, status=404)
                raise Http404("No record has this id.")
        return None
