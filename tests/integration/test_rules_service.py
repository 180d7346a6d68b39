"""The rules service on a real database: loading the defaults, editing, deciding, dry runs."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from aftersales.db.uow import Database
from aftersales.kit.access import Principal, Role
from aftersales.kit.errors import Conflict, Forbidden, Invalid, NotFound
from aftersales.rules import service
from aftersales.rules.domain import PolicyError
from aftersales.rules.models import Policy
from aftersales.rules.schemas import DryRunIn
from aftersales.worker import wiring

from ..factories import Factory
from .helpers import ADMIN

SUPERVISOR = Principal(user_id=0, username="boss", role=Role.SUPERVISOR, display_name="boss")
RETURN = {
    "order.delivered": True,
    "order.days_since_receipt": 3,
    "case.kind": "return_refund",
    "case.reason": "changed_mind",
    "case.amount": 99,
    "customer.past_returns": 0,
}


def write_yaml(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "policies.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def test_load_defaults_inserts_once_and_keeps_admin_edits(db: Database) -> None:
    total = service.load_defaults(db)
    assert total >= 20
    policies = service.list_policies(db)
    assert len(policies) == total and policies[0].key == "compensation_cap"
    service.update_policy(db, "quality_30", service.get_policy(db, "quality_30").definition, False, 44, ADMIN)
    assert service.load_defaults(db) == 0
    edited = service.get_policy(db, "quality_30")
    assert edited.enabled is False and edited.priority == 44 and edited.version == 2


def test_a_bad_file_changes_nothing_and_names_the_policy(db: Database, tmp_path: Path) -> None:
    path = write_yaml(
        tmp_path,
        """
- {key: fine, name_zh: 好, name_en: Fine, definition: {then: {approval: auto}}}
- key: broken
  name_zh: 坏
  name_en: Broken
  definition: {when: {attr: case.kind, op: eq, value: retrun_refund}, then: {approval: auto}}
""",
    )
    with pytest.raises(PolicyError, match=r"policy 'broken': when: 'retrun_refund' is not a value of case.kind"):
        service.load_defaults(db, path)
    assert service.list_policies(db) == []
    with pytest.raises(PolicyError, match="not valid YAML"):
        service.load_defaults(db, write_yaml(tmp_path, "- {key: [unclosed"))
    with pytest.raises(PolicyError, match="cannot read"):
        service.load_defaults(db, tmp_path / "missing.yaml")


def test_merchant_policies_bind_to_the_merchant_code(db: Database, factory: Factory, tmp_path: Path) -> None:
    factory.catalogue()
    text = """
- key: pop_a_generous
  name_zh: 商家A
  name_en: Merchant A
  priority: 1
  merchant_code: pop-a
  definition: {then: {eligible: true, approval: auto, reason_zh: 好, reason_en: ok, stop: true}}
- key: everyone_else
  name_zh: 其他
  name_en: Others
  priority: 2
  definition: {then: {eligible: false, reason_zh: 不, reason_en: nope}}
"""
    assert service.load_defaults(db, write_yaml(tmp_path, text)) == 2
    a = service.get_policy(db, "pop_a_generous")
    assert a.merchant_code == "pop-a" and a.merchant_id is not None
    with db.read() as uow:
        assert service.decide(uow.session, RETURN, a.merchant_id).eligible
        assert not service.decide(uow.session, RETURN, a.merchant_id + 1).eligible
        assert not service.decide(uow.session, RETURN, None).eligible
    with pytest.raises(PolicyError, match="merchant 'nobody' does not exist"):
        service.load_defaults(db, write_yaml(tmp_path, text.replace("pop-a", "nobody").replace("pop_a", "x")))


def test_decide_uses_enabled_policies_of_the_purpose_inside_the_callers_transaction(db: Database) -> None:
    service.load_defaults(db)
    with db.read() as uow:
        rules = service.active_rules(uow.session, "eligibility")
        assert [r.priority for r in rules] == sorted(r.priority for r in rules)
        assert service.active_rules(uow.session, "routing") == []
        decision = service.decide(uow.session, RETURN, None)
    assert decision.eligible and decision.approval == "auto" and decision.return_shipping_paid_by == "buyer"
    # Every matching policy is listed, also one whose fields were already decided.
    assert decision.policy_keys == ["no_reason_7_days", "low_risk_auto_approval", "returns_review_72h"]
    service.update_policy(
        db, "no_reason_7_days", service.get_policy(db, "no_reason_7_days").definition, False, 50, ADMIN
    )
    with db.read() as uow:
        refused = service.decide(uow.session, RETURN, None)
    assert not refused.eligible and refused.policy_keys == ["catch_all_refuse"]


def test_update_policy_checks_the_definition_and_says_what_is_wrong(db: Database) -> None:
    service.load_defaults(db)
    with pytest.raises(Invalid, match=r"not valid JSON: .* at line 1, column"):
        service.update_policy(db, "quality_30", '{"when": {}, "then": ', True, 40, ADMIN)
    with pytest.raises(Invalid, match=r"cannot be used: then.approval: use auto or review"):
        service.update_policy(db, "quality_30", '{"when": {}, "then": {"approval": "soon"}}', True, 40, ADMIN)
    with pytest.raises(Invalid, match=r"nests? too deeply"):
        service.update_policy(db, "quality_30", '{"when": ' + '{"not": ' * 1500 + "{}" + "}" * 1501, True, 40, ADMIN)
    with pytest.raises(Invalid, match="too long"):
        service.update_policy(db, "quality_30", " " * 20_001, True, 40, ADMIN)
    with pytest.raises(Invalid, match="priority"):
        service.update_policy(db, "quality_30", {"then": {"approval": "auto"}}, True, -1, ADMIN)
    with pytest.raises(NotFound, match="No policy 'nope'"):
        service.update_policy(db, "nope", {"then": {"approval": "auto"}}, True, 1, ADMIN)
    with pytest.raises(Forbidden):
        service.update_policy(db, "quality_30", {"then": {"approval": "auto"}}, True, 1, SUPERVISOR)
    assert service.get_policy(db, "quality_30").version == 1


def test_update_policy_saves_text_and_records_who(db: Database) -> None:
    service.load_defaults(db)
    text = json.dumps({"when": {"attr": "case.kind", "op": "eq", "value": "repair"}, "then": {"approval": "review"}})
    out = service.update_policy(db, "quality_30", text, True, 39, ADMIN, version=1)
    assert out.version == 2 and out.priority == 39 and out.updated_by == "root"
    assert out.definition["when"]["value"] == "repair"


def test_editing_an_old_version_is_a_conflict(db: Database) -> None:
    service.load_defaults(db)
    definition = service.get_policy(db, "quality_30").definition
    service.update_policy(db, "quality_30", definition, True, 41, ADMIN, version=1)
    with pytest.raises(Conflict, match="now version 2"):
        service.update_policy(db, "quality_30", definition, True, 42, ADMIN, version=1)
    assert service.get_policy(db, "quality_30").priority == 41


def test_dry_run_on_facts_changes_nothing_and_can_include_a_switched_off_policy(db: Database) -> None:
    service.load_defaults(db)
    service.update_policy(
        db, "vip_extra_coupon", service.get_policy(db, "vip_extra_coupon").definition, False, 91, ADMIN
    )
    vip = {**RETURN, "customer.tier": "vip"}
    assert service.dry_run(db, vip, None).offers == []
    with_off = service.dry_run(db, vip, None, include="vip_extra_coupon")
    assert with_off.offers == ["extra_coupon"]
    with pytest.raises(NotFound):
        service.dry_run(db, vip, None, include="nope")
    with pytest.raises(Invalid, match=r"unknown attribute 'case\.colour'"):
        service.dry_run(db, {"case.colour": "red"}, None)
    with db.read() as uow:
        assert uow.session.scalar(select(Policy.enabled).where(Policy.key == "vip_extra_coupon")) is False


def test_run_dry_run_reports_facts_and_the_merchant(db: Database, factory: Factory) -> None:
    factory.catalogue()
    service.load_defaults(db)
    out = service.run_dry_run(
        db, DryRunIn(facts={**RETURN, "order.merchant_code": "pop-a"}, policy_key="no_reason_7_days")
    )
    assert out.eligible and out.source == "facts" and out.policy_matched is True
    assert out.merchant_id is not None and out.facts["case.amount"] == 99
    assert "7-day" in out.reason_en and "七天" in out.reason_zh


def test_run_dry_run_on_a_real_order_line(db: Database, factory: Factory) -> None:
    wiring.bind_ports()  # the composition root plugs cases' order-line facts into the dry run
    factory.catalogue()
    service.load_defaults(db)
    factory.put_order(number="SO-R1", status="paid")
    data: dict[str, Any] = {"order_number": "SO-R1", "line_no": 1, "kind": "refund_only", "reason": "out_of_stock"}
    out = service.run_dry_run(db, DryRunIn.model_validate(data))
    assert out.source == "order" and out.facts["order.delivered"] is False
    assert out.eligible and out.approval == "auto" and out.policy_keys == ["refund_before_shipment"]
    refused = service.run_dry_run(db, DryRunIn.model_validate({**data, "kind": "return_refund"}))
    assert not refused.eligible and "not arrived" in refused.reason_en
    with pytest.raises(Invalid, match="no line 9"):
        service.run_dry_run(db, DryRunIn.model_validate({**data, "line_no": 9}))


def test_a_dry_run_against_an_order_needs_a_facts_provider(db: Database) -> None:
    service.provide_order_facts(None)
    data: dict[str, Any] = {"order_number": "SO-R1", "line_no": 1, "kind": "refund_only", "reason": "out_of_stock"}
    try:
        with pytest.raises(Invalid, match="needs the cases context"):
            service.run_dry_run(db, DryRunIn.model_validate(data))
    finally:
        wiring.bind_ports()


def test_no_default_policy_promises_a_benefit_or_coupon_that_nothing_carries_out(db: Database) -> None:
    """Nothing waives return shipping or extends warranties: the defaults that would offer them are
    switched off. The VIP members' extra coupon is on: the agent issues it from the customer's
    wallet (wallet.service.offer_vip_coupon). No verdict lists a coupon as a solution."""
    service.load_defaults(db)
    for key in ("vip_waived_return_shipping", "vip_appliance_extended_warranty"):
        assert service.get_policy(db, key).enabled is False, key
    assert service.get_policy(db, "vip_extra_coupon").enabled is True
    for policy in service.list_policies(db):
        then = policy.definition.get("then", {}) if policy.enabled else {}
        assert "coupon" not in then.get("resolutions", []), policy.key
        assert set(then.get("offers", [])) <= {"extra_coupon"}, policy.key
