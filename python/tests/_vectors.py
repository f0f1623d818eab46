"""Reads the committed test vectors in testvectors/ at the repository root."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

VECTORS = Path(__file__).resolve().parents[2] / "testvectors"


def load_json(name: str) -> Any:
    return json.loads((VECTORS / name).read_text(encoding="utf-8"))


def read_text(name: str) -> str:
    return (VECTORS / name).read_text(encoding="utf-8")


def byte_cases() -> list[dict[str, Any]]:
    """The cases whose token is not UTF-8, each with its bytes decoded from `token_hex`."""
    cases: list[dict[str, Any]] = load_json("verify.json")["byte_cases"]
    return [{**case, "token": bytes.fromhex(case["token_hex"])} for case in cases]
