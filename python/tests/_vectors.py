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
