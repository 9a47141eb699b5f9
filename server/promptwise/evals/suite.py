"""Suite files (`NAME.evals.yaml`): the pydantic format, loading with line/column positions, and discovery."""

from __future__ import annotations

import difflib
import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, Any, Literal, Optional, Union

import regex
import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from .. import access
from .parsing import LimitError, compose

SUITE_SUFFIXES = (".evals.yaml", ".evals.yml")
MAX_SUITE_BYTES = 16 * 1024 * 1024


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)


def _text(value: Any) -> Any:
    # YAML reads `42` and `true` as numbers and booleans; string assertions compare them as written.
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return str(value)
    return value


class TextAssertion(_Strict):
    """The output contains / starts with a string (`icontains` ignores case)."""

    type: Literal["contains", "not-contains", "icontains", "not-icontains", "starts-with", "not-starts-with"]
    value: str = Field(description="The text to look for.")

    _coerce = field_validator("value", mode="before")(_text)


class EqualsAssertion(_Strict):
    """The output equals a value: text (surrounding whitespace ignored), or JSON when the value is a mapping or list."""

    type: Literal["equals", "not-equals"]
    value: Union[str, int, float, bool, dict[str, Any], list[Any], None] = Field(description="The expected output.")


class ListAssertion(_Strict):
    """The output contains at least one (`contains-any`) or every (`contains-all`) string of a list."""

    type: Literal["contains-any", "not-contains-any", "contains-all", "not-contains-all"]
    value: list[str] = Field(min_length=1, description="Strings to look for.")

    @field_validator("value", mode="before")
    @classmethod
    def _items(cls, value: Any) -> Any:
        return [_text(v) for v in value] if isinstance(value, list) else value


class RegexAssertion(_Strict):
    """A Python regular expression matches somewhere in the output."""

    type: Literal["regex", "not-regex"]
    flags: Optional[str] = Field(None, pattern=r"^[imsx]*$", description="Any of i (ignore case), m, s, x.")
    value: str = Field(description="A Python regular expression (re.search).")

    @field_validator("value")
    @classmethod
    def _compiles(cls, value: str, info: Any) -> str:
        try:
            regex.compile(value, regex_flags(info.data.get("flags")))
        except (regex.error, ValueError, OverflowError, RecursionError) as exc:
            raise ValueError(f"invalid regular expression {value!r}: {exc}") from None
        return value


class JsonAssertion(_Strict):
    """The output is JSON, optionally valid against a JSON Schema."""

    type: Literal["is-json", "not-is-json"]
    json_schema: Optional[dict[str, Any]] = Field(None, alias="schema", description="A JSON Schema the output must match.")

    @field_validator("json_schema")
    @classmethod
    def _valid_schema(cls, schema: Optional[dict[str, Any]]) -> Optional[dict[str, Any]]:
        if schema is None:
            return schema
        import jsonschema

        try:
            jsonschema.validators.validator_for(schema).check_schema(schema)
        except jsonschema.SchemaError as exc:
            where = "/".join(str(p) for p in exc.path)
            raise ValueError(f"not a valid JSON Schema{' at ' + where if where else ''}: {exc.message}") from None
        return schema


class MaxTokensAssertion(_Strict):
    """The reply uses at most this many completion tokens, as the provider billed them."""

    type: Literal["max-tokens", "not-max-tokens"]
    value: int = Field(ge=0, description="Maximum completion tokens.")


class CostAssertion(_Strict):
    """The call costs at most this many US dollars (real usage times the catalog price)."""

    type: Literal["cost", "not-cost"]
    value: float = Field(ge=0, description="Maximum cost of the call in USD.")


class LatencyAssertion(_Strict):
    """The call takes at most this many milliseconds."""

    type: Literal["latency", "not-latency"]
    value: float = Field(gt=0, description="Maximum latency in milliseconds.")


class RubricAssertion(_Strict):
    """A judge model reads the output and the rubric and returns pass or fail with a reason."""

    type: Literal["llm-rubric", "not-llm-rubric"]
    value: str = Field(min_length=1, description="The rubric: what a passing output does.")
    model: Optional[str] = Field(None, description="Judge model (default: the suite's judge_model, else config).")


class SimilarAssertion(_Strict):
    """The output's embedding is at least `threshold` cosine-similar to the reference's."""

    type: Literal["similar", "not-similar"]
    value: str = Field(min_length=1, description="The reference text.")
    threshold: float = Field(0.8, ge=-1, le=1, description="Minimum cosine similarity.")
    model: Optional[str] = Field(None, description="Embedding model (default: the suite's embedding_model, else config).")


ASSERTION_MODELS: tuple[type[BaseModel], ...] = (
    TextAssertion,
    EqualsAssertion,
    ListAssertion,
    RegexAssertion,
    JsonAssertion,
    MaxTokensAssertion,
    CostAssertion,
    LatencyAssertion,
    RubricAssertion,
    SimilarAssertion,
)
Assertion = Annotated[Union[ASSERTION_MODELS], Field(discriminator="type")]  # type: ignore[valid-type]
ASSERTION_TYPES: list[str] = [t for m in ASSERTION_MODELS for t in m.model_fields["type"].annotation.__args__]


def regex_flags(flags: str | None) -> int:
    """Flags for the `regex` module (which has a match timeout; its flag values are those of `re`)."""
    value = 0
    for ch in flags or "":
        value |= {"i": regex.IGNORECASE, "m": regex.MULTILINE, "s": regex.DOTALL, "x": regex.VERBOSE}[ch]
    return value


class Case(_Strict):
    """One input to the prompt and what its output must satisfy."""

    name: Optional[str] = Field(None, description="Shown in reports (default: the case's number).")
    description: Optional[str] = None
    vars: dict[str, Any] = Field(default_factory=dict, description="Template variables for this case.")
    assert_: list[Assertion] = Field(default_factory=list, alias="assert", description="Assertions on the output.")


class CaseDefaults(_Strict):
    """Variables and assertions every case gets (a case's own variables win)."""

    vars: dict[str, Any] = Field(default_factory=dict)
    assert_: list[Assertion] = Field(default_factory=list, alias="assert")


class Suite(_Strict):
    """An evaluation suite: `NAME.evals.yaml` beside its prompt file."""

    description: Optional[str] = None
    prompt: Optional[str] = Field(
        None, description="The prompt file, relative to the suite (default: the file beside it with the same name)."
    )
    models: Optional[list[str]] = Field(None, description="Models to run (default: the prompt's model).")
    judge_model: Optional[str] = Field(None, description="Model that grades llm-rubric assertions (default: config).")
    embedding_model: Optional[str] = Field(None, description="Model for similar assertions (default: config).")
    repeat: int = Field(1, ge=1, le=100, description="Times each case runs on each model.")
    concurrency: Optional[int] = Field(None, ge=1, le=1000, description="Model calls in flight at once (default: config).")
    timeout: Optional[float] = Field(None, gt=0, description="Seconds before a model call times out (default: config).")
    params: dict[str, Any] = Field(
        default_factory=dict,
        description="Call parameters (temperature, max_tokens, seed, response_format...) over the prompt's own.",
    )
    defaults: Optional[CaseDefaults] = None
    cases: Optional[list[Case]] = Field(None, description="Cases written inline.")
    cases_file: Optional[str] = Field(
        None, description="A .jsonl file (one case object per line) or .csv file (a column per variable), relative to the suite."
    )

    @field_validator("models", mode="before")
    @classmethod
    def _one_model(cls, value: Any) -> Any:
        return [value] if isinstance(value, str) else value


# ---- loading with positions ----


@dataclass
class SuiteProblem:
    """An error or warning in a suite or cases file, at a zero-based line and column (code points)."""

    path: Path
    message: str
    line: int = 0
    column: int = 0
    end_line: int | None = None
    end_column: int | None = None
    severity: Literal["error", "warning"] = "error"

    def display(self) -> str:
        return f"{self.path}:{self.line + 1}:{self.column + 1}: {self.severity} {self.message}"


@dataclass
class CaseLocation:
    """Where a case is written: its suite (inline) or its cases file; zero-based line and column."""

    path: Path
    line: int
    column: int = 0
    end_line: int | None = None
    end_column: int | None = None


@dataclass
class LoadedCase:
    index: int  # zero-based, across inline cases then the cases file
    name: str
    vars: dict[str, Any]
    assertions: list[Any]
    location: CaseLocation


@dataclass
class LoadedSuite:
    path: Path
    suite: Suite | None
    cases: list[LoadedCase] = field(default_factory=list)
    problems: list[SuiteProblem] = field(default_factory=list)
    prompt_path: Path | None = None

    @property
    def ok(self) -> bool:
        return self.suite is not None and not any(p.severity == "error" for p in self.problems)

    @property
    def name(self) -> str:
        for suffix in SUITE_SUFFIXES:
            if self.path.name.endswith(suffix):
                return self.path.name[: -len(suffix)]
        return self.path.stem


class _Nodes:
    """Maps a pydantic error location back to the YAML node it came from."""

    def __init__(self, root: yaml.Node | None) -> None:
        self.root = root

    def find(self, loc: tuple[Any, ...], key: bool = False) -> yaml.Node | None:
        node = self.root
        found = node
        for i, part in enumerate(loc):
            if isinstance(node, yaml.MappingNode):
                match = next(((k, v) for k, v in node.value if isinstance(k, yaml.ScalarNode) and k.value == str(part)), None)
                if match is None:
                    continue  # a union tag or a field the input lacks: stay on this node
                last = i == len(loc) - 1
                node = match[0] if (key and last) else match[1]
            elif isinstance(node, yaml.SequenceNode) and isinstance(part, int) and 0 <= part < len(node.value):
                node = node.value[part]
            else:
                continue
            found = node
        return found


def _problem_at(path: Path, message: str, node: yaml.Node | None, severity: str = "error") -> SuiteProblem:
    if node is None:
        return SuiteProblem(path, message, severity=severity)  # type: ignore[arg-type]
    start, end = node.start_mark, node.end_mark
    return SuiteProblem(path, message, start.line, start.column, end.line, end.column, severity)  # type: ignore[arg-type]


def describe_error(error: dict[str, Any]) -> str:
    """One pydantic error in the words of a suite author."""
    loc = error["loc"]
    kind = error["type"]
    where = _dotted(loc)
    if kind == "extra_forbidden":
        key = str(loc[-1])
        parent = loc[:-1]
        allowed = _allowed_keys(parent, error)
        hint = difflib.get_close_matches(key, allowed, n=1)
        suggestion = f"; did you mean '{hint[0]}'?" if hint else ""
        return f"unknown key '{key}'{' in ' + _dotted(parent) if parent else ''}{suggestion} (allowed: {', '.join(allowed)})"
    if kind == "union_tag_invalid":
        tag = (error.get("ctx") or {}).get("tag", "")
        hint = difflib.get_close_matches(str(tag), ASSERTION_TYPES, n=1)
        suggestion = f"; did you mean '{hint[0]}'?" if hint else ""
        return f"unknown assertion type '{tag}' at {where}{suggestion}"
    if kind == "union_tag_not_found":
        return f"{where}: an assertion needs a 'type' (one of {', '.join(t for t in ASSERTION_TYPES if not t.startswith('not-'))}, each negatable with not-)"
    if kind == "missing":
        return f"{where}: '{loc[-1]}' is required"
    message = error["msg"]
    if kind == "value_error":
        message = message.removeprefix("Value error, ")
    return f"{where}: {message}"


def _dotted(loc: tuple[Any, ...]) -> str:
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        elif str(part) in ASSERTION_TYPES:
            continue  # the discriminator pydantic adds to the location
        else:
            out += ("." if out else "") + str(part)
    return out or "suite"


def _allowed_keys(parent: tuple[Any, ...], error: dict[str, Any]) -> list[str]:
    names = [str(p) for p in parent if not isinstance(p, int)]
    model: type[BaseModel] = Suite
    for name in names:
        if name in ASSERTION_TYPES:
            model = next(m for m in ASSERTION_MODELS if name in m.model_fields["type"].annotation.__args__)
            continue
        sub = {"cases": Case, "defaults": CaseDefaults}.get(name)
        if sub is not None:
            model = sub
        elif name == "assert":
            model = BaseModel
    return [f.alias or n for n, f in model.model_fields.items()]


def load_suite(path: Path, text: str | None = None) -> LoadedSuite:
    """Read and validate a suite; problems carry positions and never raise. `text` overrides the file (an editor)."""
    loaded = LoadedSuite(path=path, suite=None)
    if text is None:
        # Only a regular file, size checked before the read: a FIFO or /dev/zero named *.evals.yaml is refused.
        data, why = access.read_bytes(path, MAX_SUITE_BYTES, origin=path.parent)
        if data is None:
            loaded.problems.append(SuiteProblem(path, f"cannot read the suite: {why}"))
            return loaded
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError as exc:
            line = data.count(b"\n", 0, exc.start)
            loaded.problems.append(SuiteProblem(path, f"the suite is not UTF-8 text (byte 0x{data[exc.start]:02x} at offset {exc.start:,})", line))
            return loaded
    if len(text) > MAX_SUITE_BYTES:
        loaded.problems.append(SuiteProblem(path, f"suite is larger than {MAX_SUITE_BYTES // 1048576} MiB; use cases_file"))
        return loaded
    try:
        root, data = compose(text)
    except LimitError as exc:
        mark = exc.mark
        loaded.problems.append(SuiteProblem(path, f"the suite {exc.message}", mark.line if mark else 0, mark.column if mark else 0))
        return loaded
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        problem = " ".join(p for p in (exc.context, exc.problem) if p) or "invalid YAML"
        loaded.problems.append(SuiteProblem(path, f"invalid YAML: {problem}", mark.line if mark else 0, mark.column if mark else 0))
        return loaded
    except (yaml.YAMLError, RecursionError, ValueError) as exc:
        loaded.problems.append(SuiteProblem(path, f"invalid YAML: {str(exc)[:200]}"))
        return loaded
    nodes = _Nodes(root)
    if not isinstance(data, dict):
        loaded.problems.append(_problem_at(path, "a suite is a mapping with 'cases' (or 'cases_file') and their assertions", root))
        return loaded
    loaded.problems.extend(_duplicate_keys(path, root))
    loaded.problems.extend(_cases_without_assertions(path, data, nodes))
    try:
        suite = Suite.model_validate(data)
    except ValidationError as exc:
        for error in exc.errors():
            loc = error["loc"] + (("type",) if error["type"] == "union_tag_invalid" else ())
            node = nodes.find(loc, key=error["type"] == "extra_forbidden")
            loaded.problems.append(_problem_at(path, describe_error(error), node))
        loaded.problems.sort(key=lambda p: (p.line, p.column))
        return loaded
    if any(p.severity == "error" for p in loaded.problems):
        return loaded
    loaded.suite = suite
    defaults = suite.defaults or CaseDefaults()
    for i, case in enumerate(suite.cases or []):
        node = nodes.find(("cases", i))
        location = CaseLocation(path, *_span(node))
        loaded.cases.append(_loaded_case(len(loaded.cases), case, defaults, location))
    if suite.cases_file:
        from .cases import load_cases_file

        load_cases_file(loaded, suite, defaults, nodes.find(("cases_file",)))
    if not loaded.cases and not any(p.severity == "error" for p in loaded.problems):
        at = nodes.find(("cases",)) if "cases" in data else root
        loaded.problems.append(_problem_at(path, "the suite has no cases: add 'cases' or 'cases_file'", at))
    if suite.models is not None and not suite.models:
        loaded.problems.append(_problem_at(path, "'models' is empty; remove it to use the prompt's model", nodes.find(("models",))))
    _check_graders(loaded, suite, nodes)
    _check_params(loaded, suite, nodes)
    if loaded.ok:
        loaded.prompt_path = _prompt_path(loaded, suite, nodes)
    loaded.problems.sort(key=lambda p: (str(p.path), p.line, p.column))
    return loaded


def _cases_without_assertions(path: Path, data: dict[str, Any], nodes: _Nodes) -> list[SuiteProblem]:
    """Checked on the raw data so it is reported together with any other error in the file."""
    defaults = data.get("defaults")
    if isinstance(defaults, dict) and defaults.get("assert"):
        return []
    cases = data.get("cases")
    found = []
    for i, case in enumerate(cases if isinstance(cases, list) else []):
        if isinstance(case, dict) and not case.get("assert"):
            name = case.get("name") or f"case {i + 1}"
            at = nodes.find(("cases", i, "assert")) if "assert" in case else nodes.find(("cases", i))
            found.append(_problem_at(path, f"case '{name}' has no assertions: add an 'assert' list (or defaults.assert)", at))
    return found


def _span(node: yaml.Node | None) -> tuple[int, int, int | None, int | None]:
    if node is None:
        return 0, 0, None, None
    return node.start_mark.line, node.start_mark.column, node.end_mark.line, node.end_mark.column


def _loaded_case(index: int, case: Case, defaults: CaseDefaults, location: CaseLocation) -> LoadedCase:
    return LoadedCase(
        index=index,
        name=case.name or f"case {index + 1}",
        vars={**defaults.vars, **case.vars},
        assertions=[*defaults.assert_, *case.assert_],
        location=location,
    )


def _duplicate_keys(path: Path, node: yaml.Node | None, depth: int = 0) -> list[SuiteProblem]:
    if node is None or depth > 8:
        return []
    found: list[SuiteProblem] = []
    if isinstance(node, yaml.MappingNode):
        seen: set[str] = set()
        for key, value in node.value:
            if isinstance(key, yaml.ScalarNode):
                if key.value in seen:
                    found.append(_problem_at(path, f"duplicate key '{key.value}': the later one silently replaces the earlier", key))
                seen.add(key.value)
            found.extend(_duplicate_keys(path, value, depth + 1))
    elif isinstance(node, yaml.SequenceNode):
        for item in node.value:
            found.extend(_duplicate_keys(path, item, depth + 1))
    return found


def _check_graders(loaded: LoadedSuite, suite: Suite, nodes: _Nodes) -> None:
    """Model-graded assertions need a judge or embedding model from somewhere; say so before any call."""
    from ..config import load_config

    settings = load_config(loaded.path).settings.evals
    judge = suite.judge_model or settings.judge_model
    embedder = suite.embedding_model or settings.embedding_model
    for case in loaded.cases:
        for j, assertion in enumerate(case.assertions):
            missing = None
            if isinstance(assertion, RubricAssertion) and not (assertion.model or judge):
                missing = "llm-rubric needs a judge model: set 'judge_model' in the suite or evals.judge_model in config"
            elif isinstance(assertion, SimilarAssertion) and not (assertion.model or embedder):
                missing = "similar needs an embedding model: set 'embedding_model' in the suite or evals.embedding_model in config"
            if missing:
                if case.location.path == loaded.path:
                    own = j - len((suite.defaults or CaseDefaults()).assert_)
                    loc = ("cases", case.index, "assert", own) if own >= 0 else ("defaults", "assert", j)
                    node = nodes.find(loc)
                    loaded.problems.append(_problem_at(loaded.path, missing, node))
                else:
                    loc_ = case.location
                    loaded.problems.append(SuiteProblem(loc_.path, missing, loc_.line, loc_.column))
                return


def _check_params(loaded: LoadedSuite, suite: Suite, nodes: _Nodes) -> None:
    """Suite params that would choose a host or a key (api_base, api_key, extra_headers...) are never sent."""
    from .routing import param_problem

    for name in suite.params:
        why = param_problem(str(name))
        if why is not None:
            loaded.problems.append(_problem_at(loaded.path, why, nodes.find(("params", name), key=True), "warning"))


def _prompt_path(loaded: LoadedSuite, suite: Suite, nodes: _Nodes) -> Path | None:
    from ..formats import detect_format

    folder = loaded.path.parent
    if suite.prompt:
        target = Path(os.path.realpath(folder / suite.prompt))  # a symlink loop is reported, not raised
        why = access.refusal(target, loaded.path)
        if why is None and not target.exists():
            why = f"prompt file {suite.prompt} not found in {folder}"
        elif why is None and not access.is_regular_file(target):
            why = f"prompt file {suite.prompt} is not a regular file; it was not read"
        if why is not None:
            loaded.problems.append(_problem_at(loaded.path, why, nodes.find(("prompt",))))
            return None
        return target
    stem = loaded.name
    found = sorted(
        p
        for p in folder.glob(f"{glob_escape(stem)}.*")
        if p.is_file() and not p.name.endswith(SUITE_SUFFIXES) and (detect_format(p) is not None or p.suffix in (".txt", ".md"))
    )
    if len(found) == 1:
        target = Path(os.path.realpath(found[0]))
        why = access.refusal(target, loaded.path)
        if why is not None:  # a symlink out of the workspace
            loaded.problems.append(_problem_at(loaded.path, f"{found[0].name}: {why}", nodes.root))
            return None
        return target
    if not found:
        message = f"no prompt file beside the suite: expected {stem}.prompty, {stem}.prompt or similar, or set 'prompt'"
    else:
        message = f"several prompt files could go with this suite ({', '.join(p.name for p in found)}); set 'prompt'"
    loaded.problems.append(_problem_at(loaded.path, message, nodes.root))
    return None


def glob_escape(text: str) -> str:
    return re.sub(r"([*?\[])", r"[\1]", text)


# ---- for editors: where each case is ----


def case_locations(path: Path, text: str | None = None) -> list[CaseLocation]:
    """The position of every case of a suite, in order (inline cases in the suite, then cases-file rows)."""
    return [case.location for case in load_suite(path, text).cases]


# ---- finding suites ----


def is_suite(path: Path) -> bool:
    return path.name.endswith(SUITE_SUFFIXES)


def suite_beside(prompt: Path) -> Path | None:
    """`triage.prompty` -> `triage.evals.yaml` (or .yml) in the same folder."""
    name = prompt.name
    stems = [name.split(".", 1)[0]] if not name.startswith(".") else [name]
    for stem in dict.fromkeys([prompt.stem, *stems]):
        for suffix in SUITE_SUFFIXES:
            candidate = prompt.parent / f"{stem}{suffix}"
            if candidate.is_file():
                return candidate
    return None


def find_suites(paths: list[Path], exclude: list[str] | None = None) -> tuple[list[Path], list[str]]:
    """Suite files for the CLI's PATHS (suites, prompt files, or folders); returns them and what could not be found."""
    from ..formats import glob_match

    suites: list[Path] = []
    missing: list[str] = []
    skip = exclude if exclude is not None else [".venv/**", "venv/**", "node_modules/**", "**/node_modules/**", ".git/**", ".promptwise/**"]
    for path in paths:
        if path.is_dir():
            for suffix in SUITE_SUFFIXES:
                for found in sorted(path.rglob(f"*{suffix}")):
                    relative = found.relative_to(path).as_posix()
                    if not any(glob_match(relative, g) for g in skip):
                        why = access.refusal(found, path)
                        if why is None:
                            suites.append(found)
                        else:  # a symlink out of the folder being searched
                            missing.append(f"{found}: {why}")
        elif is_suite(path):
            if path.exists() or path.is_symlink():
                suites.append(path)  # load_suite reports what is wrong with it (a FIFO, a symlink loop...)
            else:
                missing.append(f"{path}: no such suite file")
        elif path.is_file():
            beside = suite_beside(path)
            if beside is None:
                missing.append(f"{path}: no suite beside it (expected {path.name.split('.', 1)[0]}.evals.yaml)")
            else:
                suites.append(beside)
        else:
            missing.append(f"{path}: no such file or folder")
    unique = list(dict.fromkeys(Path(os.path.realpath(p)) for p in suites))
    return unique, missing
