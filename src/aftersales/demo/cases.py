"""Demo after-sales cases in every stage, created through the cases service so policies apply."""

from __future__ import annotations

import random

from aftersales.cases import service as cases
from aftersales.cases.domain import CaseAction, CaseKind, CaseReason
from aftersales.cases.schemas import ActionIn, CaseDraft, CaseLineIn
from aftersales.db.uow import Database
from aftersales.kit.access import Principal, Role
from aftersales.kit.errors import AppError
from aftersales.kit.pagination import PageRequest
from aftersales.orders import service as shop

CUSTOMER_SERVICE = Principal(user_id=0, username="demo-agent", role=Role.AGENT_T1, display_name="客服 张敏")
WAREHOUSE = Principal(user_id=0, username="demo-warehouse", role=Role.ADMIN, display_name="自营仓 华东")
PLATFORM = Principal(user_id=0, username="demo-app", role=Role.INTEGRATION, display_name="App")

STORIES = [
    (CaseKind.RETURN_REFUND, CaseReason.CHANGED_MIND, 4),
    (CaseKind.RETURN_REFUND, CaseReason.DEFECT, 5),
    (CaseKind.EXCHANGE, CaseReason.WRONG_ITEM, 3),
    (CaseKind.REFUND_ONLY, CaseReason.MISSING_ITEM, 2),
    (CaseKind.REPAIR, CaseReason.DEFECT, 3),
    (CaseKind.INVOICE, CaseReason.INVOICE_NEEDED, 1),
]


def seed_cases(db: Database, count: int, rng: random.Random) -> int:
    """Open cases on recently delivered orders and move each a random number of steps on."""
    delivered = shop.search_orders(db, PLATFORM, "", PageRequest(1, 100), "delivered").items
    made = 0
    for summary in rng.sample(delivered, k=min(count, len(delivered))):
        kind, reason, max_steps = rng.choice(STORIES)
        draft = CaseDraft(
            order_number=summary.number,
            kind=kind,
            reason=reason,
            lines=[] if kind is CaseKind.INVOICE else [CaseLineIn(line_no=1, quantity=1)],
            description="演示数据 demo",
            return_method=rng.choice(["pickup", "mail_back"]),
        )
        try:
            case = cases.submit(db, draft, PLATFORM, via="api")
        except AppError:
            continue  # the policies refused it, as they would a real customer
        made += 1
        for _ in range(rng.randrange(0, max_steps + 1)):
            actions = [a for a in case.next_actions if a in _ADVANCING]
            if not actions:
                break
            action = CaseAction(actions[0])
            data = ActionIn(
                action=action, note="演示 demo", carrier="SF", tracking_number=f"SF{rng.randrange(10**10):010d}"
            )
            actor = WAREHOUSE if action in (CaseAction.RECEIVE, CaseAction.INSPECT_PASS) else CUSTOMER_SERVICE
            try:
                case = cases.act(db, case.number, data, actor if action is not CaseAction.SHIP_BACK else WAREHOUSE)
            except AppError:
                break
    return made


_ADVANCING = {
    CaseAction.APPROVE.value,
    CaseAction.SHIP_BACK.value,
    CaseAction.RECEIVE.value,
    CaseAction.INSPECT_PASS.value,
    CaseAction.SHIP_REPLACEMENT.value,
    CaseAction.FINISH_REPAIR.value,
    CaseAction.ISSUE_INVOICE.value,
}
