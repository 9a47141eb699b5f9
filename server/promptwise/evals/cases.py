"""Cases files (`cases_file:` in a suite): JSON Lines or CSV, read through the workspace's bounds, each bad row a problem."""

from __future__ import annotations

import csv
import io
import json
import os
import re
from pathlib import Path
from typing import TYPE_CHECKING, Any, Iterator

from pydantic import ValidationError

from .. import access
from .parsing import MAX_DEPTH, too_deep

if TYPE_CHECKING:
    import yaml

    from .suite import CaseDefaults, LoadedSuite, Suite

MAX_CASES_BYTES = 64 * 1024 * 1024
MAX_BAD_ROWS = 50
_ASSERT_COLUMN = re.compile(r"^assert[.:](?P<type>[a-z-]+)$")


def load_cases_file(loaded: "LoadedSuite", suite: "Suite", defaults: "CaseDefaults", node: "yaml.Node | None") -> None:
    from .suite import Case, CaseLocation, SuiteProblem, _loaded_case, _problem_at, describe_error

    assert suite.cases_file is not None
    target = loaded.path.parent / suite.cases_file
    if target.suffix.lower() not in (".jsonl", ".csv"):
        loaded.problems.append(_problem_at(loaded.path, "cases_file must be a .jsonl or .csv file", node))
        return
    data, why = access.read_bytes(target, MAX_CASES_BYTES, origin=loaded.path)
    if data is None:
        if why and why.endswith("does not exist"):
            why = f"cases file {suite.cases_file} not found"
        loaded.problems.append(_problem_at(loaded.path, f"cases_file: {why}", node))
        return
    target = Path(os.path.realpath(target))
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start)
        loaded.problems.append(SuiteProblem(target, f"the cases file is not UTF-8 text (byte 0x{data[exc.start]:02x} at offset {exc.start:,}); save it as UTF-8", line))
        return
    text = text.removeprefix("\ufeff")
    rows = _jsonl_rows(target, text, loaded) if target.suffix.lower() == ".jsonl" else _csv_rows(target, text, loaded)
    errors = 0
    for line, raw in rows:
        if raw is None:  # the row's problem is already reported
            errors += 1
        else:
            location = CaseLocation(target, line)
            try:
                case = Case.model_validate(raw)
            except ValidationError as exc:
                for error in exc.errors():
                    loaded.problems.append(SuiteProblem(target, describe_error(error), line))
                errors += 1
            else:
                loaded_case = _loaded_case(len(loaded.cases), case, defaults, location)
                if loaded_case.assertions:
                    loaded.cases.append(loaded_case)
                    continue
                loaded.problems.append(SuiteProblem(target, f"case '{loaded_case.name}' has no assertions: add 'assert' or defaults.assert", line))
                errors += 1
        if errors >= MAX_BAD_ROWS:
            loaded.problems.append(SuiteProblem(target, "too many invalid cases; stopped reading", line))
            return


def _jsonl_rows(path: Path, text: str, loaded: "LoadedSuite") -> Iterator[tuple[int, Any]]:
    from .suite import SuiteProblem

    for number, line in enumerate(text.split("\n")):
        if not line.strip():
            continue
        try:
            value = json.loads(line)
        except RecursionError:
            loaded.problems.append(SuiteProblem(path, f"line is nested more than {MAX_DEPTH} levels deep", number))
            yield number, None
            continue
        except ValueError as exc:
            loaded.problems.append(SuiteProblem(path, f"line is not valid JSON: {exc}", number, max(0, getattr(exc, "colno", 1) - 1)))
            yield number, None
            continue
        if too_deep(value):
            loaded.problems.append(SuiteProblem(path, f"line is nested more than {MAX_DEPTH} levels deep", number))
            yield number, None
            continue
        yield number, value


def _csv_rows(path: Path, text: str, loaded: "LoadedSuite") -> Iterator[tuple[int, Any]]:
    """CSV: a column per variable; `__name` names the case; `assert.TYPE` columns hold an assertion's value."""
    from .suite import ASSERTION_TYPES, SuiteProblem

    reader = csv.DictReader(io.StringIO(text, newline=""))
    line = 0
    try:
        for header in reader.fieldnames or []:
            m = _ASSERT_COLUMN.match(header or "")
            if (header or "").startswith("assert") and (m is None or m.group("type") not in ASSERTION_TYPES):
                loaded.problems.append(SuiteProblem(path, f"column '{header}' is not an assertion: use assert.TYPE with a TYPE from {', '.join(ASSERTION_TYPES)}", 0))
        line = reader.line_num
        for row in reader:
            case: dict[str, Any] = {"vars": {}, "assert": []}
            bad = None
            for key, value in row.items():
                if key is None or value is None:
                    continue
                m = _ASSERT_COLUMN.match(key)
                if key == "__name":
                    case["name"] = value or None
                elif m is not None:
                    if value == "":
                        continue
                    try:
                        case["assert"].append(_csv_assertion(m.group("type"), value))
                    except (ValueError, RecursionError) as exc:
                        bad = f"column '{key}': not valid JSON: {exc if not isinstance(exc, RecursionError) else 'nested too deeply'}"
                else:
                    case["vars"][key] = value
            if case.get("name") is None:
                case.pop("name", None)
            if bad is not None:
                loaded.problems.append(SuiteProblem(path, bad, line))
                yield line, None
            else:
                yield line, case
            line = reader.line_num
    except csv.Error as exc:
        # e.g. "field larger than field limit (131072)": the rest of the file cannot be read reliably.
        loaded.problems.append(SuiteProblem(path, f"the CSV cannot be read past this row: {exc}", line))


def _csv_assertion(kind: str, cell: str) -> dict[str, Any]:
    if kind.endswith(("contains-any", "contains-all")):
        values = json.loads(cell) if cell.lstrip().startswith("[") else [v.strip() for v in cell.split("|")]
        return {"type": kind, "value": values}
    if kind.endswith("is-json"):
        if cell.strip().lower() in ("", "true", "yes", "1"):
            return {"type": kind}
        schema = json.loads(cell)
        if too_deep(schema):
            raise ValueError(f"the schema is nested more than {MAX_DEPTH} levels deep")
        return {"type": kind, "schema": schema}
    if kind.endswith(("max-tokens",)):
        return {"type": kind, "value": int(cell)} if cell.strip().isdigit() else {"type": kind, "value": cell}
    if kind.endswith(("cost", "latency")):
        try:
            return {"type": kind, "value": float(cell)}
        except ValueError:
            return {"type": kind, "value": cell}
    return {"type": kind, "value": cell}
