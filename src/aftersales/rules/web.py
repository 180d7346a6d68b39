"""Policy pages for administrators (supervisors read): the list, one policy's editor, the dry run."""

from __future__ import annotations

import json
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import HTMLResponse, Response
from pydantic import ValidationError

from aftersales.db.uow import Database
from aftersales.kit.access import Principal, Role
from aftersales.kit.errors import AppError, Invalid
from aftersales.rules import service
from aftersales.rules.domain import KINDS, REASONS, Purpose
from aftersales.rules.schemas import DryRunIn, DryRunOut
from aftersales.web import i18n
from aftersales.web.deps import csrf_protect, get_db, page_principal
from aftersales.web.forms import statuses, submit, version_of
from aftersales.web.templating import render

# Deliberately separate: each page's route is written out, although many look alike, because FastAPI
# reads its signature (form fields and their limits, role, CSRF) to check the request; how a form
# ends is shared (web/forms.submit).
router = APIRouter(include_in_schema=False)
READERS = (Role.ADMIN, Role.SUPERVISOR)
EXAMPLE_FACTS = {
    "order.delivered": True,
    "order.shipped": True,
    "order.days_since_receipt": 5,
    "order.days_since_payment": 8,
    "order.merchant_code": "selfop",
    "order.merchant_tags": [],
    "product.category": "apparel",
    "product.tags": [],
    "customer.tier": "vip",
    "customer.past_returns": 0,
    "case.kind": "return_refund",
    "case.reason": "changed_mind",
    "case.quantity": 1,
    "case.amount": 129,
    "case.opened": False,
}
EXAMPLE_TICKET_FACTS = {
    "ticket.type": "complaint",
    "ticket.scenario": "product.defect",
    "ticket.scenario_group": "product",
    "ticket.responsibility": "merchant",
    "ticket.tags": ["product.defect.not_working"],
    "ticket.threatens_escalation": False,
    "ticket.channel": "web",
    "product.category": "baby_maternal",
    "order.total": 258,
    "order.days_late": 0,
    "customer.tier": "regular",
    "customer.complaints_30d": 0,
}


def _choices(purpose: str = Purpose.ELIGIBILITY.value) -> dict[str, Any]:
    example = EXAMPLE_TICKET_FACTS if purpose == Purpose.TICKET_PRIORITY.value else EXAMPLE_FACTS
    return {
        "kinds": KINDS,
        "reasons": REASONS,
        "example_facts": json.dumps(example, indent=2),
        "purpose": purpose,
        "order_dry_run": purpose != Purpose.TICKET_PRIORITY.value,
    }


@router.get("/admin/policies", response_class=HTMLResponse)
def policies_page(
    request: Request, db: Database = Depends(get_db), principal: Principal = Depends(page_principal(*READERS))
) -> Response:
    # One purpose at a time (eligibility first): each purpose is its own walk, read on its own.
    asked = request.query_params.get("purpose", Purpose.ELIGIBILITY.value)
    purpose = asked if asked in {p.value for p in Purpose} else Purpose.ELIGIBILITY.value
    everything = service.list_policies(db)
    counts = {p.value: sum(1 for policy in everything if policy.purpose == p.value) for p in Purpose}
    return render(
        request,
        "rules/list.html",
        policies=[policy for policy in everything if policy.purpose == purpose],
        purposes=[p.value for p in Purpose if counts[p.value] or p.value == purpose],
        counts=counts,
        **_choices(purpose),
    )


# The dry run's own refusals (schemas.DryRunIn), said in the reader's language.
MISSING_SOURCE = "give either 'facts', or an order line: missing "


def _validation_message(exc: ValidationError, lang: str) -> str:
    """What to fix in the dry-run form, in the reader's language: the form's own labels and
    sentences from the catalogue, never the validator's words ("Value error, …")."""

    def label(name: str) -> str:
        text = i18n.gettext(lang, f"rules.{name}")
        return name if text == f"rules.{name}" else text

    parts = []
    for err in exc.errors()[:5]:
        where = ".".join(str(p) for p in err.get("loc", ()))
        message = str(err.get("msg", "")).removeprefix("Value error, ")
        if message.startswith(MISSING_SOURCE):
            names = [label(n.strip()) for n in message.removeprefix(MISSING_SOURCE).split(",")]
            text = i18n.gettext(lang, "rules.dry_run.missing").format(
                fields="、".join(names) if lang == "zh-CN" else ", ".join(names)
            )
        elif err.get("type") == "value_error":
            text = i18n.gettext(lang, message)
        else:
            text = i18n.gettext(lang, "rules.dry_run.bad_value")
        parts.append(f"{label(where)}: {text}" if where else text)
    return i18n.gettext(lang, "rules.dry_run.please_fix").format(what="; ".join(parts))


def _dry_run_input(
    mode: str,
    purpose: str,
    facts_text: str,
    order_number: str,
    line_no: str,
    kind: str,
    reason: str,
    quantity: str,
    opened: bool,
    policy_key: str,
) -> DryRunIn:
    """The dry-run form: mode=facts sends a JSON object, mode=order an order line."""
    if mode == "facts":
        try:
            facts = json.loads(facts_text) if facts_text.strip() else None
        except json.JSONDecodeError as exc:
            raise Invalid(f"The facts are not valid JSON: {exc.msg} at line {exc.lineno}, column {exc.colno}.") from exc
        if not isinstance(facts, dict):
            raise Invalid('Give the facts as a JSON object, e.g. {"case.kind": "return_refund"}.')
        return DryRunIn.model_validate({"facts": facts, "policy_key": policy_key or None, "purpose": purpose})
    return DryRunIn.model_validate(
        {
            "order_number": order_number.strip() or None,
            "line_no": line_no.strip() or None,
            "kind": kind or None,
            "reason": reason or None,
            "quantity": quantity.strip() or 1,
            "opened": opened,
            "policy_key": policy_key or None,
        }
    )


@router.post("/admin/policies/dry-run", response_class=HTMLResponse, dependencies=[Depends(csrf_protect)])
def dry_run(
    request: Request,
    mode: Annotated[str, Form(max_length=8)] = "order",
    purpose: Annotated[str, Form(max_length=24)] = Purpose.ELIGIBILITY.value,
    facts: Annotated[str, Form(max_length=20_000)] = "",
    order_number: Annotated[str, Form(max_length=64)] = "",
    line_no: Annotated[str, Form(max_length=8)] = "",
    kind: Annotated[str, Form(max_length=24)] = "",
    reason: Annotated[str, Form(max_length=24)] = "",
    quantity: Annotated[str, Form(max_length=8)] = "1",
    opened: Annotated[bool, Form()] = False,
    policy_key: Annotated[str, Form(max_length=64)] = "",
    db: Database = Depends(get_db),
    principal: Principal = Depends(page_principal(*READERS)),
) -> Response:
    result: DryRunOut | None = None
    error, status = "", 200
    try:
        data = _dry_run_input(mode, purpose, facts, order_number, line_no, kind, reason, quantity, opened, policy_key)
        result = service.run_dry_run(db, data)
    except ValidationError as exc:
        error, status = _validation_message(exc, request.state.lang), 422
    except AppError as exc:
        error, status = i18n.error_text(exc, request.state.lang), exc.status_code
    htmx = bool(request.headers.get("hx-request"))
    # htmx swaps only 2xx answers, so the fragment carries its error with a 200.
    return render(
        request,
        "rules/dry_run.html",
        status_code=200 if htmx else status,
        block="result" if htmx else None,
        result=result,
        error=error,
    )


@router.get("/admin/policies/{key}", response_class=HTMLResponse)
def policy_page(
    request: Request,
    key: str,
    db: Database = Depends(get_db),
    principal: Principal = Depends(page_principal(*READERS)),
) -> Response:
    policy = service.get_policy(db, key[:64])
    return render(
        request,
        "rules/detail.html",
        policy=policy,
        definition_text=json.dumps(policy.definition, indent=2, ensure_ascii=False),
        error="",
        notice=request.query_params.get("notice", ""),
        can_edit=principal.has(Role.ADMIN),
        **_choices(policy.purpose),
    )


@router.post("/admin/policies/{key}", response_class=HTMLResponse, dependencies=[Depends(csrf_protect)])
def save_policy(
    request: Request,
    key: str,
    definition: Annotated[str, Form(max_length=service.MAX_DEFINITION_CHARS)] = "",
    priority: Annotated[str, Form(max_length=12)] = "",
    enabled: Annotated[str, Form(max_length=8)] = "",
    version: Annotated[str, Form(max_length=12)] = "",
    db: Database = Depends(get_db),
    principal: Principal = Depends(page_principal(Role.ADMIN)),
) -> Response:
    policy = service.get_policy(db, key[:64])

    def save() -> None:
        if not priority.strip().isdigit():
            raise Invalid("The priority must be a whole number from 0 to 100000 (lower runs first).")
        service.update_policy(
            db,
            policy.key,
            definition,
            enabled in ("on", "true", "1"),
            int(priority),
            principal,
            version_of(version),
        )

    def again(exc: AppError) -> Response:
        return render(
            request,
            "rules/detail.html",
            status_code=exc.status_code,
            policy=policy,
            definition_text=definition,
            error=exc.message,
            notice="",
            can_edit=True,
            submitted={"priority": priority, "enabled": enabled in ("on", "true", "1"), "version": version},
            **_choices(policy.purpose),
        )

    return submit(save, f"/admin/policies/{policy.key}?notice=saved", again, shown=statuses(409, 422))
