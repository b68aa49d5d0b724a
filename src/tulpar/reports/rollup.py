"""What settling needs to know of one report: its name in the dirty marks, its rollup table
and the statement that writes the table's rows for the days being settled."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import TextClause


@dataclass(frozen=True, slots=True)
class Rollup:
    report: str  # as report_dirty_days.report names it
    table: str  # one row per local day and fine group; its ``day`` column is the local day
    insert: TextClause  # the fine rows of the days given by statement.settle_values
    values: Mapping[str, Any] = field(default_factory=dict)  # the statement's other parameters
