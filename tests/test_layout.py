"""The tree tells the architecture, and imports go one way (issue 11):

    desk (composition)  →  bot (channels, routing, Rasa client)  →  handoff.store
                        →  handoff (inbox, admin, learning)      →  handoff.store
    baken_core: shared by everything, imports none of it.
    actions, baken_nlu: the Rasa side; they never import the desk.

Checked on the source (every `import`, also inside functions), so a wrong arrow fails here
before it becomes a cycle.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import pytest

from baken_core.paths import PROJECT_ROOT

PACKAGES = ("desk", "bot", "handoff", "baken_core", "baken_nlu", "actions")

# (importer prefix, forbidden import prefixes, why)
RULES: list[tuple[str, tuple[str, ...], str]] = [
    ("handoff", ("bot", "desk"), "the worker side reaches the citizen side only through handoff.ports"),
    ("bot", ("desk",), "the composition imports the channels, not the other way round"),
    (
        "handoff.store",
        ("handoff.inbox", "handoff.admin", "handoff.learning", "handoff.deps", "handoff.ports", "handoff.auth"),
        "the store is the bottom layer",
    ),
    ("baken_core", ("bot", "handoff", "desk", "actions", "baken_nlu"), "the shared core imports nothing above it"),
    ("actions", ("bot", "handoff", "desk"), "the action server runs in the Rasa environment"),
    ("baken_nlu", ("bot", "handoff", "desk"), "the NLU runs in the Rasa environment"),
    *[
        (runtime, ("tests", "stack", "benchmarks"), "what runs in production does not need the test tools")
        for runtime in PACKAGES
    ],
]


def module_name(path: Path) -> str:
    parts = list(path.relative_to(PROJECT_ROOT).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imports(path: Path) -> Iterator[tuple[int, str]]:
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    package = module_name(path).rsplit(".", 1)[0]
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield node.lineno, alias.name
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:  # relative: resolve against the package
                base = ".".join([*package.split(".")[: len(package.split(".")) - node.level + 1], base]).strip(".")
            yield node.lineno, base
            for alias in node.names:
                yield node.lineno, f"{base}.{alias.name}"


def sources() -> list[Path]:
    return sorted(p for package in PACKAGES for p in (PROJECT_ROOT / package).rglob("*.py"))


def within(name: str, prefix: str) -> bool:
    return name == prefix or name.startswith(prefix + ".")


def wrong_arrows(files: list[Path]) -> list[str]:
    found = []
    for path in files:
        importer = module_name(path)
        for lineno, imported in imports(path):
            for owner, forbidden, why in RULES:
                if within(importer, owner) and any(within(imported, f) for f in forbidden):
                    found.append(f"{path.relative_to(PROJECT_ROOT)}:{lineno} imports {imported}: {why}")
    return sorted(set(found))


def test_imports_go_one_way() -> None:
    assert wrong_arrows(sources()) == []


def test_a_wrong_arrow_is_found(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The check itself can fail: a store module that imports the routing is reported."""
    fake_root = tmp_path
    (fake_root / "handoff" / "store").mkdir(parents=True)
    bad = fake_root / "handoff" / "store" / "bad.py"
    bad.write_text("def f():\n    from bot.routing import Dispatcher\n", encoding="utf-8")
    monkeypatch.setattr(__import__(__name__, fromlist=["PROJECT_ROOT"]), "PROJECT_ROOT", fake_root)
    found = wrong_arrows([bad])
    assert len(found) == 2 and all("handoff/store/bad.py:2 imports bot.routing" in f for f in found)


def runtime_paths_read(path: Path) -> list[str]:
    """String literals (not docstrings) that name a path under tests/ or docs/."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    docstrings = {
        id(node.body[0].value)
        for node in ast.walk(tree)
        if isinstance(node, (ast.Module, ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef))
        and node.body
        and isinstance(node.body[0], ast.Expr)
        and isinstance(node.body[0].value, ast.Constant)
    }
    return [
        node.value
        for node in ast.walk(tree)
        if isinstance(node, ast.Constant) and isinstance(node.value, str) and id(node) not in docstrings
        if node.value in ("tests", "docs") or node.value.startswith(("tests/", "docs/"))
    ]


def test_runtime_code_never_reads_tests_or_docs() -> None:
    """The evaluation sets and the intent catalogue are data the runtime owns (data/)."""
    found = {str(p.relative_to(PROJECT_ROOT)): runtime_paths_read(p) for p in sources()}
    assert {path: names for path, names in found.items() if names} == {}


def test_the_tree_names_each_concept() -> None:
    """Where the store, the state machine, the inbox, the learning loop and each channel live."""
    for place in [
        "handoff/store/models.py",
        "handoff/store/conversations.py",
        "handoff/inbox/api.py",
        "handoff/learning/training_job.py",
        "handoff/admin/dashboard.py",
        "bot/telegram_channel.py",
        "bot/widget_api.py",
        "bot/routing/dispatcher.py",
        "desk/app.py",
    ]:
        assert (PROJECT_ROOT / place).is_file(), place
