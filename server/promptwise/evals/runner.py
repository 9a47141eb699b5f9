"""Run suites: render each case, call each model (cached, concurrent, retried), check assertions, report progress."""

from __future__ import annotations

import asyncio
import json
import os
import threading
import time
from dataclasses import dataclass, field, replace
from datetime import datetime, timezone
from functools import lru_cache
from pathlib import Path
from typing import Any, Callable, Iterator

from .. import __version__
from ..analysis import analyze, catalog_for
from ..catalog import Catalog
from ..config import LoadedConfig, load_config
from ..fixes.models import suggest_models
from ..formats import Format, PromptDocument, Severity, detect_format, parse_document, read_prompt_file, render_document
from .assertions import GradingError, Observation, check, cosine, judge_messages, parse_verdict
from .cache import RequestKeys, ResponseCache, cache_key
from .calls import CallSettings, Completion, ModelClient, ProviderError, Secrets, Target, resolve_target
from .results import CandidateTrial, CaseResult, CheapestResult, Location, RunResult, SuiteSummary, summarize
from .suite import LoadedCase, LoadedSuite, RubricAssertion, SimilarAssertion, load_suite


@dataclass
class RunOptions:
    models: list[str] | None = None  # instead of the suites' models
    concurrency: int | None = None
    repeat: int | None = None
    use_cache: bool = True
    timeout: float | None = None
    retries: int | None = None
    cache_dir: Path | None = None


@dataclass
class Progress:
    """Sent after each case (and once at the start): enough for a progress bar or an LSP $/progress report."""

    done: int
    total: int
    passed: int = 0
    failed: int = 0
    errored: int = 0
    cached: int = 0
    phase: str = "eval"
    last: CaseResult | None = None


ProgressCallback = Callable[[Progress], None]


class CancelToken:
    """Stops a run from any thread; the run returns what finished, marked cancelled. Cancelling the
    asyncio task that awaits the run works too (it raises CancelledError as usual)."""

    def __init__(self) -> None:
        self._cancelled = False
        self._callbacks: list[Callable[[], None]] = []
        self._lock = threading.Lock()

    @property
    def cancelled(self) -> bool:
        return self._cancelled

    def cancel(self) -> None:
        with self._lock:
            self._cancelled = True
            callbacks, self._callbacks = self._callbacks, []
        for callback in callbacks:
            callback()

    def _on_cancel(self, callback: Callable[[], None]) -> Callable[[], None]:
        """Call `callback` on cancel (now, if already cancelled); returns a function that unregisters it."""
        with self._lock:
            if not self._cancelled:
                self._callbacks.append(callback)
                return lambda: self._forget(callback)
        callback()
        return lambda: None

    def _forget(self, callback: Callable[[], None]) -> None:
        with self._lock:
            if callback in self._callbacks:
                self._callbacks.remove(callback)


# ---- preparing a suite ----


@dataclass
class Rendered:
    messages: list[dict[str, Any]]
    warnings: list[str]
    error: str | None = None


@dataclass
class PreparedSuite:
    loaded: LoadedSuite
    config: LoadedConfig
    display: str
    doc: PromptDocument | None = None
    targets: list[Target] = field(default_factory=list)
    params: dict[str, Any] = field(default_factory=dict)
    repeat: int = 1
    timeout: float | None = None
    judge_model: str | None = None
    embedding_model: str | None = None
    cache: ResponseCache | None = None
    problems: list[str] = field(default_factory=list)

    @property
    def runnable(self) -> bool:
        return not self.problems and self.doc is not None

    def summary(self) -> SuiteSummary:
        return SuiteSummary(
            path=self.display,
            prompt=_display(self.doc.path) if self.doc is not None else None,
            models=[t.label for t in self.targets],
            cases=len(self.loaded.cases),
            problems=self.problems,
        )


def _display(path: Path) -> str:
    """A path as the user would type it from here: relative to the working folder when inside it."""
    return _display_from(path, os.getcwd())


@lru_cache(maxsize=256)
def _display_from(path: Path, cwd: str) -> str:
    try:
        return path.resolve().relative_to(Path(cwd).resolve()).as_posix()
    except ValueError:
        return str(path)


def cache_folder(config: LoadedConfig, override: Path | None = None) -> Path:
    if override is not None:
        return override
    if config.settings.evals.cache_dir:
        return (config.root / config.settings.evals.cache_dir).resolve()
    return config.root / ".promptwise" / "cache"


def prepare(loaded: LoadedSuite, options: RunOptions, models: list[str] | None = None) -> PreparedSuite:
    """Parse the suite's prompt once and resolve its models; problems keep the suite from running."""
    config = load_config(loaded.path)
    prepared = PreparedSuite(loaded=loaded, config=config, display=_display(loaded.path))
    errors = [p for p in loaded.problems if p.severity == "error"]
    if errors or loaded.suite is None:
        prepared.problems = [f"{_display(p.path)}:{p.line + 1}:{p.column + 1}: {p.message}" for p in errors] or ["the suite could not be read"]
        return prepared
    suite = loaded.suite
    if loaded.prompt_path is None:
        prepared.problems = ["the suite has no prompt file"]
        return prepared
    read = read_prompt_file(loaded.prompt_path, config.settings.max_file_size)
    if read.text is None:
        prepared.problems = [f"{_display(loaded.prompt_path)}: {f.message}" for f in read.problems]
        return prepared
    fmt = detect_format(loaded.prompt_path, config.settings.plain_prompts, config.root) or Format.PLAIN
    doc = parse_document(loaded.prompt_path, read.text, fmt)
    broken = [f for f in [*read.problems, *doc.problems] if f.severity is Severity.ERROR]
    if broken:
        lines = doc.lines
        prepared.problems = [f"{_display(doc.path)}:{lines.line_of(f.span.start) + 1}: {f.message}" for f in broken]
        return prepared
    prepared.doc = doc
    catalog = catalog_for(config)
    names = models or options.models or suite.models or [doc.model or config.settings.default_model]
    prepared.targets = [resolve_target(name, config, catalog) for name in dict.fromkeys(names)]
    prepared.params = {**prompt_params(doc), **suite.params}
    if doc.tools and "tools" not in prepared.params:
        prepared.params["tools"] = doc.tools
    prepared.repeat = options.repeat or suite.repeat
    prepared.timeout = options.timeout or suite.timeout or config.settings.evals.timeout
    prepared.judge_model = suite.judge_model or config.settings.evals.judge_model
    prepared.embedding_model = suite.embedding_model or config.settings.evals.embedding_model
    prepared.cache = ResponseCache(cache_folder(config, options.cache_dir), enabled=options.use_cache)
    return prepared


# Frontmatter parameter spellings (Prompty parameters/options, Dotprompt config) -> OpenAI chat parameters.
_PARAMS = {
    "temperature": "temperature",
    "top_p": "top_p",
    "topP": "top_p",
    "max_tokens": "max_tokens",
    "max_completion_tokens": "max_completion_tokens",
    "maxOutputTokens": "max_tokens",
    "maxTokens": "max_tokens",
    "seed": "seed",
    "stop": "stop",
    "stopSequences": "stop",
    "frequency_penalty": "frequency_penalty",
    "frequencyPenalty": "frequency_penalty",
    "presence_penalty": "presence_penalty",
    "presencePenalty": "presence_penalty",
    "response_format": "response_format",
    "responseFormat": "response_format",
    "reasoning_effort": "reasoning_effort",
    "reasoningEffort": "reasoning_effort",
}


def prompt_params(doc: PromptDocument) -> dict[str, Any]:
    """The call parameters a prompt file sets for itself."""
    fm = doc.frontmatter
    sources: list[Any] = []
    if doc.format is Format.PROMPTY and isinstance(fm.get("model"), dict):
        sources = [fm["model"].get("parameters"), fm["model"].get("options")]
    elif doc.format is Format.DOTPROMPT:
        sources = [fm.get("config")]
    params: dict[str, Any] = {}
    for source in sources:
        if isinstance(source, dict):
            for key, value in source.items():
                name = _PARAMS.get(str(key))
                if name is not None and value is not None:
                    params[name] = value
    if doc.format is Format.DOTPROMPT and doc.uses_json_output and "response_format" not in params:
        params["response_format"] = {"type": "json_object"}
    return params


def render_case(prepared: PreparedSuite, case: LoadedCase, secrets: Secrets) -> Rendered:
    assert prepared.doc is not None
    try:
        doc = render_document(prepared.doc, case.vars)
    except Exception as exc:  # a template can raise anything while rendering a case's values
        return Rendered([], [], secrets.scrub(f"the prompt could not be rendered with this case's vars: {exc}"))
    errors = [f for f in doc.problems if f.severity is Severity.ERROR]
    if errors:
        return Rendered([], [], secrets.scrub("the prompt could not be rendered: " + "; ".join(f.message for f in errors)))
    messages: list[dict[str, Any]] = []
    for m in doc.messages:
        if not m.content and not m.name:
            continue
        message: dict[str, Any] = {"role": m.role, "content": m.content}
        if m.name:
            message["name"] = m.name
        messages.append(message)
    warnings = []
    sent = "\n".join(m["content"] for m in messages)
    for finding in doc.problems:
        if finding.code == "undefined-variable":
            name = doc.text[finding.span.start : finding.span.end].strip("{}# ")
            if "{{" + name + "}}" in sent and f"'{name}'" not in " ".join(warnings):
                warnings.append(f"variable '{name}' has no value in this case: it was sent as the literal placeholder")
    if not messages:
        return Rendered([], warnings, "the prompt rendered to no messages")
    return Rendered(messages, warnings)


# ---- grading with models ----


class _Grader:
    """Judge and embedding calls for one case; results are cached like the case's own call."""

    def __init__(self, runner: "_Run", prepared: PreparedSuite) -> None:
        self.runner = runner
        self.prepared = prepared
        self.cost = 0.0

    def _target(self, model: str) -> Target:
        return resolve_target(model, self.prepared.config, self.runner.catalog(self.prepared.config))

    async def judge(self, model: str, rubric: str, output: str, vars: dict[str, Any]) -> tuple[bool, str]:
        target = self._target(model)
        messages = judge_messages(rubric, output, vars)
        params = {"temperature": 0, "response_format": {"type": "json_object"}}
        cache = self.prepared.cache
        key = cache_key("judge", target.model, target.api_base, {"messages": messages, "params": params})
        entry = cache.get(key) if cache else None
        if entry is None:
            try:
                reply = await self.runner.client.complete(target, messages, params, self.prepared.timeout)
            except ProviderError as exc:
                raise GradingError(f"judge {model}: {exc.message}") from None
            self.cost += reply.cost or 0.0
            entry = reply.to_cache()
            parse_verdict(reply.text)  # never cache a reply that cannot be used
            if cache:
                cache.put(key, entry)
        return parse_verdict(entry.get("text") or "")

    async def similarity(self, model: str, output: str, reference: str) -> float:
        target = self._target(model)
        cache = self.prepared.cache
        memo = self.runner.embeddings
        keys = {text: cache_key("embedding", target.model, target.api_base, text) for text in (output, reference)}
        vectors: dict[str, list[float]] = {}
        waiting: dict[str, asyncio.Future[list[float]]] = {}
        mine: list[str] = []
        for text, key in keys.items():
            known = memo.get(key)
            if isinstance(known, asyncio.Future):
                waiting[text] = known  # another case is embedding the same text (a shared reference)
                continue
            if known is None and cache is not None:
                entry = cache.get(key)
                known = entry.get("vector") if entry else None
            if known is not None:
                vectors[text] = known
                continue
            memo[key] = asyncio.get_running_loop().create_future()
            mine.append(text)
        if mine:
            try:
                found = await self.runner.client.embed(target, mine, self.prepared.timeout)
                if len(found.vectors) != len(mine):
                    raise GradingError(f"embedding {model} returned {len(found.vectors)} vectors for {len(mine)} texts")
            except (ProviderError, GradingError, asyncio.CancelledError) as exc:
                for text in mine:
                    future = memo.pop(keys[text])
                    if not future.done():
                        future.set_exception(GradingError(f"embedding {model}: another case's call failed"))
                        future.exception()  # retrieved here, so an unawaited failure is not logged
                if isinstance(exc, ProviderError):
                    raise GradingError(f"embedding {model}: {exc.message}") from None
                raise
            self.cost += found.cost or 0.0
            for text, vector in zip(mine, found.vectors):
                vectors[text] = vector
                future = memo[keys[text]]
                future.set_result(vector)
                # Only references stay in memory; a 10,000-case run must not hold every output's vector.
                memo[keys[text]] = vector if text == reference else None
                if memo[keys[text]] is None:
                    memo.pop(keys[text])
                if cache:
                    cache.put(keys[text], {"vector": vector})
        for text, future in waiting.items():
            vectors[text] = await future
        return cosine(vectors[output], vectors[reference])


# ---- the run ----

# Shared by every result (model_construct keeps the set it is given): a set per result adds up at 10,000 cases.
_CASE_FIELDS = set(CaseResult.model_fields)
_LOCATION_FIELDS = set(Location.model_fields)


@dataclass
class _Job:
    prepared: PreparedSuite
    case: LoadedCase
    rendered: Rendered
    target: Target
    repeat: int


class _Run:
    def __init__(self, prepared: list[PreparedSuite], concurrency: int, client: ModelClient, progress: ProgressCallback | None, phase: str) -> None:
        self.prepared = prepared
        self.concurrency = max(1, concurrency)
        self.client = client
        self.progress = progress
        self.phase = phase
        self.results: list[CaseResult] = []
        self.state = Progress(0, sum(len(p.loaded.cases) * len(p.targets) * p.repeat for p in prepared if p.runnable), phase=phase)
        self.embeddings: dict[str, Any] = {}  # cache key -> vector, or a future while it is being fetched
        self._catalogs: dict[int, Catalog] = {}
        self._keys: dict[tuple[int, str], RequestKeys] = {}
        self._displays: dict[Path, str] = {}

    def display(self, path: Path) -> str:
        found = self._displays.get(path)
        if found is None:
            found = self._displays[path] = _display(path)  # getcwd is a slow system call here: once per file
        return found

    def keys(self, prepared: PreparedSuite, target: Target) -> RequestKeys:
        found = self._keys.get((id(prepared), target.label))
        if found is None:
            found = self._keys[(id(prepared), target.label)] = RequestKeys("chat", target.model, target.api_base, prepared.params)
        return found

    def catalog(self, config: LoadedConfig) -> Catalog:
        found = self._catalogs.get(id(config))
        if found is None:
            found = self._catalogs[id(config)] = catalog_for(config)
        return found

    def jobs(self) -> Iterator[_Job]:
        # Case-major, so a case is rendered once and dropped when its models and repeats are done.
        for prepared in self.prepared:
            if not prepared.runnable:
                continue
            for case in prepared.loaded.cases:
                rendered = render_case(prepared, case, self.client.secrets)
                for target in prepared.targets:
                    for repeat in range(prepared.repeat):
                        yield _Job(prepared, case, rendered, target, repeat)

    async def execute(self, cancel: CancelToken | None) -> bool:
        """Run every job; returns False when cancelled through the token."""
        if self.progress:
            self.progress(replace(self.state))
        jobs = self.jobs()
        workers = [asyncio.ensure_future(self._worker(jobs)) for _ in range(min(self.concurrency, max(1, self.state.total)))]
        loop = asyncio.get_running_loop()
        forget = lambda: None  # noqa: E731
        if cancel is not None:
            forget = cancel._on_cancel(lambda: loop.call_soon_threadsafe(lambda: [w.cancel() for w in workers]))
        try:
            await asyncio.gather(*workers)
        except asyncio.CancelledError:
            for w in workers:
                w.cancel()
            await asyncio.gather(*workers, return_exceptions=True)
            if cancel is not None and cancel.cancelled:
                return False
            raise
        finally:
            forget()
        return True

    async def _worker(self, jobs: Iterator[_Job]) -> None:
        for job in jobs:  # a shared iterator: each job goes to exactly one worker
            try:
                result = await self.run_job(job)
            except Exception as exc:  # a bug must cost one case, not the run
                result = CaseResult(
                    suite=job.prepared.display,
                    case=job.case.name,
                    case_index=job.case.index,
                    model=job.target.label,
                    repeat=job.repeat,
                    status="errored",
                    error=self.client.secrets.scrub(f"promptwise could not run this case: {type(exc).__name__}: {exc}"),
                )
            self.results.append(result)
            s = self.state
            s.done += 1
            if result.status == "passed":
                s.passed += 1
            elif result.status == "failed":
                s.failed += 1
            else:
                s.errored += 1
            if result.cached:
                s.cached += 1
            s.last = result
            if self.progress:
                self.progress(replace(s))  # a snapshot: callers may keep it

    async def run_job(self, job: _Job) -> CaseResult:
        prepared, case, target = job.prepared, job.case, job.target
        where = case.location
        # Built once at the end without re-validation: the runner made every value itself.
        fields: dict[str, Any] = {
            "suite": prepared.display,
            "case": case.name,
            "case_index": case.index,
            "model": target.label,
            "repeat": job.repeat,
            "status": "errored",
            "location": Location.model_construct(_LOCATION_FIELDS, path=self.display(where.path), line=where.line, column=where.column),
            "warnings": job.rendered.warnings,
        }
        if job.rendered.error:
            return CaseResult.model_construct(_CASE_FIELDS, **fields, error=job.rendered.error)
        params = prepared.params
        cache = prepared.cache
        key = self.keys(prepared, target).key(job.rendered.messages, job.repeat)
        entry = cache.get(key) if cache else None
        if entry is not None:
            reply = Completion.from_cache(entry)
        else:
            try:
                reply = await self.client.complete(target, job.rendered.messages, params, prepared.timeout)
            except ProviderError as exc:
                return CaseResult.model_construct(_CASE_FIELDS, **fields, error=exc.message, attempts=exc.attempts)
            if cache:
                cache.put(key, reply.to_cache())
        output = reply.text if (reply.text or not reply.tool_calls) else json.dumps(reply.tool_calls, ensure_ascii=False)
        fields.update(
            output=output,
            tool_calls=reply.tool_calls,
            prompt_tokens=reply.prompt_tokens,
            completion_tokens=reply.completion_tokens,
            cost=reply.cost,
            latency_ms=round(reply.latency_ms, 2),
            cached=reply.cached,
            attempts=reply.attempts,
        )
        seen = Observation(output, target.label, reply.prompt_tokens, reply.completion_tokens, reply.cost, reply.latency_ms, reply.cached, case.vars)
        grader = _Grader(self, prepared) if any(isinstance(a, (RubricAssertion, SimilarAssertion)) for a in case.assertions) else None
        checked = []
        try:
            for assertion in case.assertions:
                checked.append(await check(assertion, seen, grader, prepared.judge_model, prepared.embedding_model))
        except GradingError as exc:
            error = self.client.secrets.scrub(f"grading failed: {exc}")
            return CaseResult.model_construct(_CASE_FIELDS, **fields, assertions=checked, error=error, grading_cost=grader.cost if grader else None)
        status = "passed" if all(a.passed for a in checked) else "failed"
        fields["status"] = status
        return CaseResult.model_construct(_CASE_FIELDS, **fields, assertions=checked, grading_cost=grader.cost if grader else None)


def _client(options: RunOptions, prepared: list[PreparedSuite]) -> ModelClient:
    evals = prepared[0].config.settings.evals if prepared else None
    settings = CallSettings(
        timeout=options.timeout or (evals.timeout if evals else 60.0),
        retries=options.retries if options.retries is not None else (evals.retries if evals else 3),
        backoff=evals.retry_backoff if evals else 1.0,
    )
    key_envs = [t.api_key_env for p in prepared for t in p.targets if t.api_key_env]
    return ModelClient(settings=settings, secrets=Secrets(key_envs))


def _concurrency(options: RunOptions, prepared: list[PreparedSuite]) -> int:
    if options.concurrency:
        return options.concurrency
    for p in prepared:
        if p.loaded.suite is not None and p.loaded.suite.concurrency:
            return p.loaded.suite.concurrency
    return prepared[0].config.settings.evals.concurrency if prepared else 8


def _ordered(results: list[CaseResult], prepared: list[PreparedSuite]) -> list[CaseResult]:
    suite_order = {p.display: i for i, p in enumerate(prepared)}
    model_order = {(p.display, t.label): i for p in prepared for i, t in enumerate(p.targets)}
    return sorted(results, key=lambda r: (suite_order.get(r.suite, 0), r.case_index, model_order.get((r.suite, r.model), 0), r.repeat))


async def run_prepared(
    prepared: list[PreparedSuite],
    options: RunOptions,
    progress: ProgressCallback | None = None,
    cancel: CancelToken | None = None,
    client: ModelClient | None = None,
    phase: str = "eval",
) -> RunResult:
    started = time.perf_counter()
    started_at = datetime.now(timezone.utc).isoformat(timespec="seconds")
    client = client or _client(options, prepared)
    run = _Run(prepared, _concurrency(options, prepared), client, progress, phase)
    caches = [p.cache for p in prepared if p.cache is not None]
    for cache in caches:
        cache.start_writer()
    try:
        finished = await run.execute(cancel)
    finally:
        for cache in caches:
            await asyncio.to_thread(cache.close)
    results = _ordered(run.results, prepared)
    models = summarize(results)
    spent = sum((r.cost or 0.0) for r in results if not r.cached) + sum((r.grading_cost or 0.0) for r in results)
    return RunResult(
        version=__version__,
        started_at=started_at,
        seconds=round(time.perf_counter() - started, 3),
        cancelled=not finished,
        suites=[p.summary() for p in prepared],
        models=models,
        results=results,
        spent=spent,
        cached=sum(1 for r in results if r.cached),
    )


async def run_suites(
    suites: list[LoadedSuite | Path],
    options: RunOptions | None = None,
    progress: ProgressCallback | None = None,
    cancel: CancelToken | None = None,
) -> RunResult:
    """Run suites together under one concurrency limit. Suites with problems are reported, not run."""
    options = options or RunOptions()
    loaded = [s if isinstance(s, LoadedSuite) else load_suite(s) for s in suites]
    prepared = [prepare(s, options) for s in loaded]
    return await run_prepared(prepared, options, progress, cancel)


async def run_suite(
    suite: LoadedSuite | Path,
    options: RunOptions | None = None,
    progress: ProgressCallback | None = None,
    cancel: CancelToken | None = None,
) -> RunResult:
    """Run one suite (the editor's entry point): typed results, progress after each case, cancellable."""
    return await run_suites([suite], options, progress, cancel)


# ---- the cheapest model that passes ----


async def find_cheapest(
    loaded: LoadedSuite,
    baseline: RunResult,
    options: RunOptions,
    progress: ProgressCallback | None = None,
    cancel: CancelToken | None = None,
    limit: int = 5,
) -> CheapestResult | None:
    """Try cheaper models cheapest first; stop at the first that passes as many cases as the current model.

    The models tried are the ones `promptwise suggest` and the editor's "Switch to" actions offer
    (`suggest_models`), so "find cheapest" never tries a model the editor would not suggest."""
    prepared = prepare(loaded, options)
    if not prepared.runnable or not prepared.targets or prepared.doc is None:
        return None
    current = prepared.targets[0].label
    mine = [r for r in baseline.results if r.suite == prepared.display and r.model == current]
    passed = sum(1 for r in mine if r.status == "passed")
    summary = next((m for m in summarize(mine)), None)
    analysis = analyze(prepared.doc, prepared.config, model=current)
    measured_current = summary.cost_per_call if summary else None
    found = CheapestResult(
        suite=prepared.display,
        current=current,
        current_passed=passed,
        total=len(mine),
        current_cost_per_call=measured_current if measured_current is not None else analysis.cost_per_call,
    )
    if summary is not None and summary.errored:
        found.note = f"{summary.errored} case(s) errored on {current}; fix those first"
        return found
    suggestions = suggest_models(analysis, prepared.config, limit=max(1, limit))
    candidates = suggestions.candidates[: max(0, limit)]
    if not candidates:
        found.note = suggestions.reason
        return found
    for candidate in candidates:
        if cancel is not None and cancel.cancelled:
            found.note = "cancelled"
            break
        # Called by its catalog name, which litellm and config [models] know; the file's spelling may differ.
        model = candidate.card.name
        trial_suite = prepare(loaded, options, models=[model])
        run = await run_prepared([trial_suite], options, progress, cancel, phase=f"candidate {model}")
        counts = run.counts
        model_summary = run.models[0] if run.models else None
        trial = CandidateTrial(
            model=model,
            passed=counts["passed"],
            failed=counts["failed"],
            errored=counts["errored"],
            cost_per_call=model_summary.cost_per_call if model_summary else None,
            estimated_cost_per_call=candidate.cost_per_call,
            verdict="",
        )
        found.tried.append(trial)
        if run.cancelled:
            trial.verdict = "cancelled"
            found.note = "cancelled"
            break
        if counts["errored"]:
            trial.verdict = f"{counts['errored']} case(s) errored"
            continue
        if counts["passed"] >= passed:
            trial.verdict = f"passes {counts['passed']}/{len(run.results)}, as many as {current}"
            found.chosen = model
            mine_cost = found.current_cost_per_call
            theirs = trial.cost_per_call if (trial.cost_per_call is not None and measured_current is not None) else candidate.cost_per_call
            if mine_cost is not None and theirs is not None:
                found.saving_per_call = mine_cost - theirs
                found.saving_per_1000_calls = found.saving_per_call * 1000
            break
        trial.verdict = f"passes {counts['passed']}/{len(run.results)}, fewer than {current}'s {passed}"
    if found.chosen is None and not found.note:
        found.note = f"none of the {len(found.tried)} cheaper model(s) tried passes as many cases as {current}"
    return found
