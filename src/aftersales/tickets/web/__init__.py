"""The ticket desk's pages: `desk` for agents and merchants, `support` for customers."""

from fastapi import APIRouter

from aftersales.tickets.web import desk, support

router = APIRouter(include_in_schema=False)
router.include_router(desk.router)
router.include_router(support.router)
