"""Knowledge JSON routes under /api/v1: search for agents' replies and for integrations."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request

from aftersales.db.uow import Database
from aftersales.kit.access import Principal, Scope
from aftersales.knowledge import service
from aftersales.knowledge.domain import MAX_QUERY, normalize_lang
from aftersales.knowledge.schemas import SearchOut
from aftersales.web.deps import api_principal, get_db

# Deliberately separate: each route is written out, although many look alike, because FastAPI reads
# its signature (path, body, role and scope) to check the request and to write the OpenAPI contract.
router = APIRouter(tags=["knowledge"])
ERRORS: dict[int | str, dict[str, Any]] = {
    401: {"description": "not signed in"},
    422: {"description": "no query, or a bad limit"},
}


@router.get(
    "/knowledge/search",
    response_model=SearchOut,
    responses=ERRORS,
    summary="Help articles answering a question, best first, with links to insert into replies",
)
def search_articles(
    request: Request,
    q: Annotated[str, Query(min_length=1, max_length=1000, description="the question, in Chinese or English")],
    lang: Annotated[str | None, Query(max_length=16, description="zh-CN or en; default: the caller's language")] = None,
    limit: Annotated[int, Query(ge=1, le=service.MAX_LIMIT)] = 5,
    db: Database = Depends(get_db),
    _: Principal = Depends(api_principal(scope=Scope.KNOWLEDGE_READ)),
) -> SearchOut:
    # Any signed-in person may search: the articles are the public help center's.
    chosen = normalize_lang(lang or request.state.lang)
    query = " ".join(q.split())[:MAX_QUERY]
    return SearchOut(query=query, lang=chosen, hits=service.search(db, query, chosen, limit))
