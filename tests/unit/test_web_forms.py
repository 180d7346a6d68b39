"""How every page's form ends (web/forms.submit): a 303 to the next address, or the page again with
the refusal's sentence and status; refusals the page does not show go on to the error pages."""

from __future__ import annotations

import pytest
from fastapi.responses import Response
from pydantic import BaseModel, Field

from aftersales.kit.errors import AppError, Conflict, Invalid, NotFound
from aftersales.web.forms import statuses, submit, version_of


class _Form(BaseModel):
    quantity: int = Field(ge=1)


def _again(exc: AppError) -> Response:
    return Response(exc.message, status_code=exc.status_code)


def _refuse(exc: Exception) -> None:
    raise exc


def test_a_command_that_runs_redirects_with_303_to_the_address_its_result_names() -> None:
    answer = submit(lambda: "TK1", lambda number: f"/desk/tickets/{number}", _again)
    assert answer.status_code == 303 and answer.headers["location"] == "/desk/tickets/TK1"


def test_a_refusal_shows_the_page_again_with_its_sentence_and_status() -> None:
    answer = submit(lambda: _refuse(Conflict("Reload and try again.")), "/done", _again)
    assert answer.status_code == 409 and answer.body == b"Reload and try again."


def test_a_schema_refusal_becomes_a_422_naming_the_field() -> None:
    answer = submit(lambda: _Form(quantity=0), "/done", _again)
    assert answer.status_code == 422 and answer.body.startswith(b"quantity: ")


def test_a_refusal_the_page_does_not_show_goes_on_to_the_error_pages() -> None:
    with pytest.raises(NotFound):
        submit(lambda: _refuse(NotFound("No such ticket.")), "/done", _again, shown=statuses(409, 422))
    answer = submit(lambda: _refuse(Invalid("Choose one.")), "/done", _again, shown=statuses(409, 422))
    assert answer.status_code == 422


def test_a_forms_version_field_is_a_whole_number_or_none() -> None:
    assert (version_of("3"), version_of(" 12 "), version_of(""), version_of("x1")) == (3, 12, None, None)
