"""The layout the packages keep: each service stands alone on `shared`, and so does `hdq`.

Walks the syntax tree of every module (imports inside functions and `TYPE_CHECKING` blocks
count too): a module under `services/<a>/` imports no `services.<b>` (b != a), and no
module under `hdq/` or `shared/` imports any service. What two services share lives in
`shared/`, so each can be built, tested and packaged alone.

And the database has one door: no module outside `services/status/store/` imports asyncpg
or holds SQL (a string with `SELECT ... FROM`, `INSERT INTO`, `UPDATE ... SET`,
`DELETE FROM`, `ROLLBACK` or an advisory lock); the rest of status names the pool as
`store.pool.Pool`.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SERVICES = sorted(p.name for p in (ROOT / "services").iterdir() if (p / "__init__.py").is_file())


def module_name(path: Path) -> str:
    """`services/chart/wheel.py` -> `services.chart.wheel`; a package is its `__init__`."""
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imported(source: str, module: str, *, package: bool = False) -> Iterator[tuple[int, str]]:
    """(line, absolute module name) of every import in `module`'s source, relative ones resolved."""
    here = module.split(".") if package else module.split(".")[:-1]
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield node.lineno, alias.name
        elif isinstance(node, ast.ImportFrom):
            base = here[: len(here) - node.level + 1] if node.level else []
            name = ".".join([*base, *([node.module] if node.module else [])])
            if node.module is None:  # `from . import x`: x may be a module
                for alias in node.names:
                    yield node.lineno, f"{name}.{alias.name}"
            else:
                yield node.lineno, name


def owner(module: str) -> str:
    """Whom a module belongs to: `services.<name>`, `hdq`, `shared`, or another top package."""
    parts = module.split(".")
    return ".".join(parts[:2]) if parts[0] == "services" and len(parts) > 1 else parts[0]


def violations(top: str) -> list[str]:
    found = []
    for path in sorted((ROOT / top).rglob("*.py")):
        me = owner(module_name(path))
        source = path.read_text(encoding="utf-8")
        package = path.name == "__init__.py"
        for line, module in imported(source, module_name(path), package=package):
            theirs = owner(module)
            if theirs.startswith("services.") and theirs != me:
                found.append(f"{path.relative_to(ROOT)}:{line}: {me} imports {module}")
    return found


@pytest.mark.parametrize("top", ["services", "hdq", "shared"])
def test_no_module_imports_another_service(top: str) -> None:
    assert violations(top) == []


def test_the_check_sees_every_kind_of_import() -> None:
    """The walk finds plain, from, relative and nested imports (on sample code)."""
    code = (
        "import services.reader.agents\n"
        "from services.status import views\n"
        "from ..reader import offline\n"
        "from .. import status\n"
        "from . import wheel\n"
        "def f():\n"
        "    from services.intake.api import x\n"
    )
    got = [module for _, module in imported(code, "services.chart.sample")]
    assert got == [
        "services.reader.agents",
        "services.status",
        "services.reader",
        "services.status",
        "services.chart.wheel",
        "services.intake.api",
    ]
    assert [m for _, m in imported("from . import x", "services.chart", package=True)] == [
        "services.chart.x"
    ]
    assert {owner(m) for m in got} == {f"services.{name}" for name in SERVICES}


STORE = ROOT / "services" / "status" / "store"
SQL = re.compile(
    r"\bSELECT\b[^;]*?\bFROM\b|\bINSERT\s+INTO\b|\bUPDATE\s+\w+\s+SET\b|\bDELETE\s+FROM\b"
    r"|\bROLLBACK\b|\bpg_advisory_\w+",
    re.DOTALL,
)


def database_uses(source: str, module: str) -> list[tuple[int, str]]:
    """(line, what) of every asyncpg import and every string holding SQL in `source`."""
    found = [
        (line, f"imports {name}")
        for line, name in imported(source, module)
        if name.split(".")[0] == "asyncpg"
    ]
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Constant) and isinstance(node.value, str):
            sql = SQL.search(node.value)
            if sql is not None:
                found.append((node.lineno, f"SQL {sql[0].split()[0]!r}"))
    return sorted(found)


@pytest.mark.parametrize("top", ["services", "hdq", "shared"])
def test_only_the_status_store_talks_to_the_database(top: str) -> None:
    found = [
        f"{path.relative_to(ROOT)}:{line}: {what}"
        for path in sorted((ROOT / top).rglob("*.py"))
        if not path.is_relative_to(STORE)
        for line, what in database_uses(path.read_text(encoding="utf-8"), module_name(path))
    ]
    assert found == []


def test_the_database_check_sees_imports_and_sql() -> None:
    """The check finds asyncpg imports and SQL in strings and f-strings (on sample code)."""
    code = (
        "import asyncpg\n"
        "from asyncpg.pool import Pool\n"
        "def f(conn, t):\n"
        "    conn.fetch('SELECT id\\n FROM readings')\n"
        "    conn.execute(f'DELETE FROM {t} WHERE true')\n"
        "Q = 'UPDATE readings SET status = $1'\n"
        "I = 'INSERT  INTO inbox VALUES ($1)'\n"
        "L = 'SELECT pg_advisory_lock($1)'\n"
        "R = 'ROLLBACK'\n"
    )
    found = [what for _, what in database_uses(code, "services.status.api.sample")]
    assert found == [
        "imports asyncpg",
        "imports asyncpg.pool",
        "SQL 'SELECT'",
        "SQL 'DELETE'",
        "SQL 'UPDATE'",
        "SQL 'INSERT'",
        "SQL 'pg_advisory_lock'",
        "SQL 'ROLLBACK'",
    ]
    assert database_uses('"""Reads select rows from the store."""', "hdq.x") == []
