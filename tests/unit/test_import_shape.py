"""The context map stays a map: no cycle between our top-level packages, no arrow hidden in a
function, and the picture in docs/ is the one the code draws.

import-linter (`make contracts`) checks the layers of the module graph; this walks the source with
`ast` (scripts/context_map.py) and counts every import, deferred ones too, as the
`import-cycles` tool does."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType

import pytest

ROOT = Path(__file__).resolve().parents[2]


def _load_context_map() -> ModuleType:
    spec = importlib.util.spec_from_file_location("context_map", ROOT / "scripts" / "context_map.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules.setdefault("context_map", module)
    spec.loader.exec_module(module)
    return module


context_map = _load_context_map()

# Composition roots import the contexts they put together, when they need them (a command loads
# only what it runs): main.py, every cli.py (a context's command is a small composition root of its
# own), the worker and the demo seed. Everywhere else an import inside a function hides an arrow.
COMPOSITION_ROOTS = ("main.py", "cli.py", "worker/", "demo/")


def is_composition_root(path: str) -> bool:
    name = path.split("/")[-1]
    return any(path.startswith(root) if root.endswith("/") else name == root for root in COMPOSITION_ROOTS)


def hidden_arrows(src: Path) -> list[str]:
    """Imports of another of our top-level packages inside a function, outside composition roots."""
    return [
        f"{imp.path}:{imp.line} imports aftersales.{imp.target} inside a function"
        for imp in context_map.imports(src)
        if imp.deferred and not is_composition_root(imp.path)
    ]


def cycles(src: Path) -> list[list[str]]:
    found: list[list[str]] = context_map.cycles(context_map.edges(context_map.imports(src)))
    return found


def test_no_cycle_between_top_level_packages() -> None:
    assert cycles(context_map.SRC) == []


def test_no_cross_package_import_hides_inside_a_function() -> None:
    assert hidden_arrows(context_map.SRC) == []


def test_the_committed_context_map_is_the_one_the_code_draws() -> None:
    committed = (ROOT / "docs" / "context-map.svg").read_text(encoding="utf-8")
    assert committed == context_map.current_svg(), "docs/context-map.svg is stale: run `make context-map`"


# --- the checks can fail -------------------------------------------------------------------------
def _tree(tmp_path: Path, files: dict[str, str]) -> Path:
    src = tmp_path / "src" / "aftersales"
    for name, text in {"__init__.py": "", **files}.items():
        path = src / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    return src


@pytest.fixture
def shop(tmp_path: Path) -> Path:
    """kit <- orders <- cases, and a composition root that imports cases."""
    return _tree(
        tmp_path,
        {
            "kit/__init__.py": "",
            "orders/__init__.py": "",
            "orders/service.py": "from aftersales.kit import clock\n",
            "cases/__init__.py": "",
            "cases/service.py": "from aftersales.orders import service as orders\n",
            "main.py": "def create_app():\n    from aftersales.cases import service\n",
        },
    )


def test_a_clean_tree_passes(shop: Path) -> None:
    assert cycles(shop) == []
    assert hidden_arrows(shop) == []


def test_an_upward_import_is_a_cycle(shop: Path) -> None:
    (shop / "orders" / "refunds.py").write_text("from ..cases.service import preview\n", encoding="utf-8")
    assert cycles(shop) == [["cases", "orders"]]


def test_a_deferred_upward_import_is_a_cycle_and_a_hidden_arrow(shop: Path) -> None:
    (shop / "orders" / "web.py").write_text(
        "def page():\n    from aftersales.cases import service\n    return service\n", encoding="utf-8"
    )
    assert cycles(shop) == [["cases", "orders"]]
    assert hidden_arrows(shop) == ["orders/web.py:2 imports aftersales.cases inside a function"]


def test_a_deferred_downward_import_is_a_hidden_arrow_too(shop: Path) -> None:
    (shop / "cases" / "web.py").write_text("async def page():\n    import aftersales.kit.clock\n", encoding="utf-8")
    assert hidden_arrows(shop) == ["cases/web.py:2 imports aftersales.kit inside a function"]


def test_a_context_importing_the_composition_root_is_a_cycle(shop: Path) -> None:
    (shop / "cases" / "tasks.py").write_text("from aftersales import main\n", encoding="utf-8")
    assert cycles(shop) == [["cases", "main"]]


def test_a_stale_picture_is_noticed(shop: Path) -> None:
    before = context_map.current_svg(shop)
    (shop / "orders" / "web.py").write_text("from aftersales.kit import money\n", encoding="utf-8")
    assert context_map.current_svg(shop) == before  # the same arrow drawn once
    (shop / "identity").mkdir()
    (shop / "identity" / "__init__.py").write_text("", encoding="utf-8")
    assert context_map.current_svg(shop) != before
