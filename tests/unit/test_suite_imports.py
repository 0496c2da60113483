"""The suites' own shape: no module under tests/ imports a test module or conftest. What tests
share lives in tests.support (fixtures in conftest.py, which pytest loads itself), so moving or
deleting one test module never breaks another."""

import ast
import pathlib

TESTS = pathlib.Path(__file__).resolve().parents[1]


def forbidden_imports(source: str) -> list[str]:
    """The modules a source imports that are test modules (test_*) or conftest."""
    found = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):  # `from tests.e2e import test_rest` names the module in the alias
            names = [node.module or ""] + [f"{node.module or ''}.{alias.name}" for alias in node.names]
        else:
            continue
        found += [name for name in names
                  if any(part.startswith("test_") or part == "conftest" for part in name.split("."))]
    return found


def test_the_check_finds_every_way_of_importing_a_test_module():
    source = ("import conftest\nfrom test_rest import call\nfrom tests.e2e.test_rest import call\n"
              "from tests.e2e import test_rest\nfrom . import test_workers\nimport tests.unit.test_money as money\n"
              "from tests.support.rest import call\nimport pytest\n")
    assert forbidden_imports(source) == ["conftest", "test_rest", "test_rest.call", "tests.e2e.test_rest",
                                         "tests.e2e.test_rest.call", "tests.e2e.test_rest", ".test_workers",
                                         "tests.unit.test_money"]


def test_no_module_under_tests_imports_a_test_module_or_conftest():
    modules = sorted(TESTS.rglob("*.py"))
    assert TESTS / "support" / "access_table.py" in modules and len(modules) > 30
    offenders = {str(path.relative_to(TESTS)): found for path in modules
                 if (found := forbidden_imports(path.read_text()))}
    assert offenders == {}
