"""The shape of the code, checked on its syntax tree: imports run one way, controllers hold no query, no
hand-written policy and no rollback, no private name crosses a module, and functions stay short."""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import pytest

from service.domains import DOMAINS, KERNEL

SERVICE = Path(__file__).resolve().parents[2] / "service"
LAYERS = {name: index for index, name in enumerate((*KERNEL, *DOMAINS))}
# Pure algorithm modules: long functions there are one algorithm, tested directly.
ALGORITHMS = {"fairs/autoschedule.py", "fairs/slots.py", "matching/scoring.py"}
MAX_FUNCTION_LINES = 60
QUERY_BUILDERS = {"select", "insert", "update", "delete", "text", "union", "union_all"}
SESSION_QUERIES = {"execute", "scalar", "scalars", "get", "rollback", "commit"}
HAND_WRITTEN_POLICY = {"require_principal", "require_staff"}


def modules() -> Iterator[tuple[str, ast.Module]]:
    for path in sorted(SERVICE.rglob("*.py")):
        yield path.relative_to(SERVICE).as_posix(), ast.parse(path.read_text(encoding="utf-8"))


def package_of(relative: str) -> str | None:
    """The kernel package or domain a module belongs to; None for the app layer (plugin, cli, scheduler…)."""
    first = relative.split("/", maxsplit=1)[0].removesuffix(".py")
    return first if first in LAYERS else None


def imported_modules(tree: ast.Module) -> Iterator[tuple[int, str, list[str]]]:
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            yield node.lineno, node.module, [alias.name for alias in node.names]
        elif isinstance(node, ast.Import):
            for alias in node.names:
                yield node.lineno, alias.name, []


def is_controller(relative: str) -> bool:
    return relative.endswith(("/api.py", "/pages.py")) and not relative.startswith("lib/")


def test_imports_run_one_way() -> None:
    wrong = []
    for relative, tree in modules():
        package = package_of(relative)
        if package is None:
            continue
        for line, module, _ in imported_modules(tree):
            parts = module.split(".")
            if parts[0] != "service" or len(parts) < 2 or parts[1] == "domains":
                continue
            target = parts[1]
            if target != package and LAYERS.get(target, len(LAYERS)) > LAYERS[package]:
                wrong.append(f"service/{relative}:{line} ({package}) imports service.{target}")
    assert not wrong, "a package imports one listed after it in service/domains.py:\n" + "\n".join(wrong)


def test_no_private_name_crosses_a_module() -> None:
    wrong = []
    for relative, tree in modules():
        for line, module, names in imported_modules(tree):
            if module == "__future__":
                continue
            private = [p for p in module.split(".") if p.startswith("_")]
            private += [name for name in names if name.startswith("_")]
            if private:
                wrong.append(f"service/{relative}:{line} imports {', '.join(private)} from {module}")
    assert not wrong, "\n".join(wrong)


def test_controllers_hold_no_query_no_policy_and_no_rollback() -> None:
    wrong = []
    for relative, tree in modules():
        if not is_controller(relative):
            continue
        for line, module, names in imported_modules(tree):
            builders = QUERY_BUILDERS.intersection(names) if module.startswith("sqlalchemy") else set()
            if builders:
                wrong.append(f"service/{relative}:{line} imports {', '.join(sorted(builders))} from {module}")
        for node in ast.walk(tree):
            if not isinstance(node, ast.Call):
                continue
            func = node.func
            if isinstance(func, ast.Name) and func.id in HAND_WRITTEN_POLICY:
                wrong.append(f"service/{relative}:{node.lineno} calls {func.id}() (take viewer/staff or a guard)")
            if (
                isinstance(func, ast.Attribute)
                and func.attr in SESSION_QUERIES
                and isinstance(func.value, ast.Name)
                and func.value.id in {"db_session", "session"}
            ):
                wrong.append(f"service/{relative}:{node.lineno} calls {func.value.id}.{func.attr}()")
            if (
                isinstance(func, ast.Name)
                and func.id.endswith("Service")
                and any(isinstance(a, ast.Name) and a.id == "db_session" for a in node.args)
            ):
                wrong.append(f"service/{relative}:{node.lineno} builds {func.id}(db_session) (declare a provider)")
    assert not wrong, "\n".join(wrong)


def long_functions() -> Iterator[str]:
    for relative, tree in modules():
        if relative in ALGORITHMS:
            continue
        for node in ast.walk(tree):
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                length = (node.end_lineno or node.lineno) - node.lineno + 1
                if length > MAX_FUNCTION_LINES:
                    yield f"service/{relative}:{node.lineno} {node.name} has {length} lines"


def test_functions_stay_short() -> None:
    wrong = list(long_functions())
    assert not wrong, f"functions over {MAX_FUNCTION_LINES} lines:\n" + "\n".join(wrong)


@pytest.mark.parametrize("name", ["plugin.py", "scheduler/__init__.py", "lib/events.py"])
def test_the_domains_are_listed_once(name: str) -> None:
    """Routes, jobs and subscribers are found through service/domains.py, not a list of their own."""
    source = (SERVICE / name).read_text(encoding="utf-8")
    assert '"registry",' not in source and "'registry'," not in source
