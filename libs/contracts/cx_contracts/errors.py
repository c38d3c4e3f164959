"""The one exception the contracts raise for bad wire input."""

from __future__ import annotations

from typing import Any

from pydantic import ValidationError


class ContractError(ValueError):
    """A record or header does not honour the contract; `errors` lists pydantic-style details, without inputs."""

    def __init__(self, message: str, *, errors: list[dict[str, Any]] | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.errors: list[dict[str, Any]] = errors or []

    @classmethod
    def from_validation(cls, context: str, error: ValidationError) -> ContractError:
        """Wrap a pydantic error; inputs are left out, since they may hold data that must not reach logs."""
        details = error.errors(include_url=False, include_input=False, include_context=False)
        errors = [{"loc": list(item["loc"]), "msg": item["msg"], "type": item["type"]} for item in details]
        where = "; ".join(f"{'.'.join(str(part) for part in e['loc']) or '(record)'}: {e['msg']}" for e in errors)
        return cls(f"{context}: {where}", errors=errors)
