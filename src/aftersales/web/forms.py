"""How a page's form ends, the same on every page: the command ran, so the browser goes on to the
next address (303, so a reload does not post again); or it was refused, so the same page comes
again with the sentence that says what to fix, under the refusal's status.

A context's web.py gives the command, where to go when it is done, and how to draw its page with
an error; what counts as a refusal the person can fix is decided here, once."""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

from fastapi.responses import RedirectResponse, Response
from pydantic import ValidationError

from aftersales.kit.errors import AppError, Invalid

T = TypeVar("T")


def first_error(exc: Exception) -> str:
    """The first thing to fix, as one sentence: "field: what is wrong" for a schema's refusal."""
    if isinstance(exc, ValidationError):
        err = exc.errors()[0]
        return f"{'.'.join(str(p) for p in err['loc'])}: {err['msg']}"
    return str(exc)


def version_of(text: str) -> int | None:
    """The version a form was loaded at (its hidden field), or None when it has none."""
    return int(text) if text.strip().isdigit() else None


def everything(exc: AppError) -> bool:
    return True


def statuses(*codes: int) -> Callable[[AppError], bool]:
    """Show the page again only for these statuses; any other refusal goes to the error page."""
    return lambda exc: exc.status_code in codes


def redirect(url: str) -> RedirectResponse:
    return RedirectResponse(url, status_code=303)


def submit(
    command: Callable[[], T],
    then: str | Callable[[T], str],
    again: Callable[[AppError], Response],
    *,
    shown: Callable[[AppError], bool] = everything,
) -> Response:
    """Run `command`; redirect to `then` (or to `then(result)`), or answer `again(refusal)`.

    A schema's or a value's refusal (ValidationError, ValueError) becomes Invalid (422) with its
    first message; an AppError the page does not show (`shown`) goes on to the error pages."""
    try:
        result = command()
    except (ValidationError, ValueError) as exc:
        return again(Invalid(first_error(exc)))
    except AppError as exc:
        if not shown(exc):
            raise
        return again(exc)
    return redirect(then if isinstance(then, str) else then(result))
