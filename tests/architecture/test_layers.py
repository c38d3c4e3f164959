"""Every service keeps the shape docs/architecture.md describes: dependencies point inwards.

The domain imports no I/O library and nothing of its own service's outer layers; handlers (the use cases)
import no adapter and no entrypoint: they work through the interfaces they declare.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

pytestmark = pytest.mark.unit

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = sorted(ROOT.glob("services/*/cx_*/__init__.py"))
IO_LIBRARIES = {"pymongo", "aiokafka", "faststream", "fastapi", "starlette", "httpx", "aiosmtplib", "uvicorn", "cx_kit"}


def imported_modules(path: Path) -> set[str]:
    """The absolute module names a file imports (relative imports are not used in this codebase)."""
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
    return names


def files_of(package: Path, layer: str) -> list[Path]:
    """The Python files of one layer (a module or a package) of a service package."""
    return sorted({*package.glob(f"{layer}.py"), *package.glob(f"{layer}/**/*.py")})


def test_every_service_has_a_domain_adapters_and_entrypoints() -> None:
    assert len(PACKAGES) >= 4
    for init in PACKAGES:
        package = init.parent
        for layer in ("domain", "adapters", "entrypoints"):
            assert (package / layer).is_dir(), f"{package.name} has no {layer}/"
        assert (package / "app.py").is_file(), f"{package.name} has no composition root app.py"


@pytest.mark.parametrize("package", [init.parent for init in PACKAGES], ids=lambda p: p.name)
def test_the_domain_imports_no_io_library_and_no_outer_layer(package: Path) -> None:
    outer = {f"{package.name}.{layer}" for layer in ("adapters", "entrypoints", "handlers", "app", "bootstrap")}
    for path in files_of(package, "domain"):
        for module in imported_modules(path):
            top = module.split(".")[0]
            assert top not in IO_LIBRARIES, f"{path.relative_to(ROOT)} imports {module}"
            assert not any(module == o or module.startswith(o + ".") for o in outer), (
                f"{path.relative_to(ROOT)} imports {module}"
            )


@pytest.mark.parametrize("package", [init.parent for init in PACKAGES], ids=lambda p: p.name)
def test_handlers_import_no_adapter_and_no_entrypoint(package: Path) -> None:
    outer = {f"{package.name}.{layer}" for layer in ("adapters", "entrypoints", "app", "bootstrap")}
    for path in files_of(package, "handlers"):
        for module in imported_modules(path):
            assert not any(module == o or module.startswith(o + ".") for o in outer), (
                f"{path.relative_to(ROOT)} imports {module}: declare the interface in the handlers instead"
            )
