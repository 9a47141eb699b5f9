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
from ..formats import Format, PromptDocument, Severity, detect_format, parse_document, read_prompt_file
from .assertions import GradingError, Observation, check
from .billing import price_call
from .cache import RequestKeys, ResponseCache
from .grading import _Grader
from .calls import CallSettings, Completion, ModelClient, ProviderError, Secrets
from .rendering import Rendered, prompt_params, reasoning_effort, render_case
from .results import CallDestination, CaseResult, CostPartResult, Location, RunResult, SuiteSummary, summarize
from .routing import Routing, Target, call_params, destinations_of, repository_routing, resolve_target
from .suite import LoadedCase, LoadedSuite, RubricAssertion, SimilarAssertion, load_suite
from .usage import SuiteCalls, measure, prompt_key, text_sha256


@dataclass
class RunOptions:
    models: list[str] | None = None  # instead of the suites' models
    concurrency: int | None = None
    repeat: int | None = None
    use_cache: bool = True
    timeout: float | None = None
    retries: int | None = None
    cache_dir: Path | None = None
    routing: Routing | None = None  # hosts the user chose for this run (flags, editor user settings)
    service_tier: str | None = None  # price the calls at this tier (default: the prompt's, else the config's)


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
    warnings: list[str] = field(default_factory=list)
    routing: Routing | None = None
    prompt_sha256: str | None = None  # of the prompt text the calls are made with
    efforts: dict[str, str | None] = field(default_factory=dict)  # model label -> the reasoning effort its calls run at
    service_tier: str = "standard"  # whose prices their costs use

    @property
    def runnable(self) -> bool:
        return not self.problems and self.doc is not None

    def summary(self) -> SuiteSummary:
        return SuiteSummary(
            path=self.display,
            prompt=_display(self.doc.path) if self.doc is not None else None,
            models=[t.label for t in self.targets],
            cases=len(self.loaded.cases),
            prompt_sha256=self.prompt_sha256,
            service_tier=self.service_tier,
            problems=self.problems,
            warnings=self.warnings,
        )

    def target(self, model: str, catalog: Catalog | None = None) -> Target:
        return resolve_target(model, self.config, catalog or catalog_for(self.config), self.routing)


def _display(path: Path) -> str:
    """A path as the user would type it from here: relative to the working folder when inside it."""
    return _display_from(path, os.getcwd())


@lru_cache(maxsize=256)
def _display_from(path: Path, cwd: str) -> str:
    try:
        return Path(os.path.realpath(path)).relative_to(os.path.realpath(cwd)).as_posix()
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
    prepared = PreparedSuite(loaded=loaded, config=config, display=_display(loaded.path), routing=options.routing)
    try:
        _prepare(prepared, options, models)
    except Exception as exc:  # one bad prompt is one problem; the other suites still run
        prepared.doc = None
        prepared.problems = [f"{_display(loaded.prompt_path or loaded.path)}: cannot be prepared: {type(exc).__name__}: {str(exc)[:300]}"]
    return prepared


def _prepare(prepared: PreparedSuite, options: RunOptions, models: list[str] | None) -> None:
    loaded, config = prepared.loaded, prepared.config
    errors = [p for p in loaded.problems if p.severity == "error"]
    if errors or loaded.suite is None:
        prepared.problems = [f"{_display(p.path)}:{p.line + 1}:{p.column + 1}: {p.message}" for p in errors] or ["the suite could not be read"]
        return
    suite = loaded.suite
    prepared.warnings = [
        *repository_routing(config),
        *(f"{_display(p.path)}:{p.line + 1}:{p.column + 1}: {p.message}" for p in loaded.problems if p.severity == "warning"),
    ]
    if loaded.prompt_path is None:
        prepared.problems = ["the suite has no prompt file"]
        return
    read = read_prompt_file(loaded.prompt_path, config.settings.max_file_size)
    if read.text is None:
        prepared.problems = [f"{_display(loaded.prompt_path)}: {f.message}" for f in read.problems]
        return
    fmt = detect_format(loaded.prompt_path, config.settings.plain_prompts, config.root) or Format.PLAIN
    doc = parse_document(loaded.prompt_path, read.text, fmt, config.settings.max_file_size)
    broken = [f for f in [*read.problems, *doc.problems] if f.severity is Severity.ERROR]
    if broken:
        lines = doc.lines
        prepared.problems = [f"{_display(doc.path)}:{lines.line_of(f.span.start) + 1}: {f.message}" for f in broken]
        return
    prepared.doc = doc
    prepared.warnings.extend(_unused_endpoints(doc))
    catalog = catalog_for(config)
    names = models or options.models or suite.models or [doc.model or config.settings.default_model]
    prepared.targets = [resolve_target(name, config, catalog, options.routing) for name in dict.fromkeys(names)]
    prepared.params = {**prompt_params(doc), **call_params(suite.params)}
    if doc.tools and "tools" not in prepared.params:
        prepared.params["tools"] = doc.tools
    prepared.repeat = options.repeat or suite.repeat
    prepared.prompt_sha256 = text_sha256(read.text)
    prepared.efforts = {t.label: reasoning_effort(prepared.params, doc, t.card) for t in prepared.targets}
    prepared.service_tier = options.service_tier or doc.service_tier or config.settings.service_tier or "standard"
    prepared.timeout = options.timeout or suite.timeout or config.settings.evals.timeout
    prepared.judge_model = suite.judge_model or config.settings.evals.judge_model
    prepared.embedding_model = suite.embedding_model or config.settings.evals.embedding_model
    prepared.cache = ResponseCache(cache_folder(config, options.cache_dir), enabled=options.use_cache)


def _unused_endpoints(doc: PromptDocument) -> list[str]:
    """A Prompty `model.configuration` may name an endpoint (azure_endpoint, base_url...): evals never call it."""
    model = doc.frontmatter.get("model") if doc.format is Format.PROMPTY else None
    configuration = model.get("configuration") if isinstance(model, dict) else None
    if not isinstance(configuration, dict):
        return []
    named = [str(k) for k in configuration if any(w in str(k).lower() for w in ("endpoint", "base", "url", "key", "host"))]
    if not named:
        return []
    return [
        f"{_display(doc.path)}: model.configuration ({', '.join(named)}) is not used by evals: a prompt file cannot choose where "
        "calls go; the model is called at its provider's own endpoint unless your user config or --api-base says otherwise"
    ]


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
                reply = await self.client.complete(target, job.rendered.messages, params, prepared.timeout, prepared.service_tier)
            except ProviderError as exc:
                return CaseResult.model_construct(_CASE_FIELDS, **fields, error=exc.message, attempts=exc.attempts)
            if cache:
                cache.put(key, reply.to_cache())
        output = reply.text if (reply.text or not reply.tool_calls) else json.dumps(reply.tool_calls, ensure_ascii=False)
        # A cached reply is priced again, at this run's service tier.
        priced = price_call(target.card, reply.tokens, prepared.service_tier) if reply.cached else reply.priced
        cost = priced.total if priced is not None else reply.cost
        fields.update(
            output=output,
            tool_calls=reply.tool_calls,
            prompt_tokens=reply.prompt_tokens,
            cached_tokens=reply.cached_tokens,
            cache_write_tokens=reply.cache_write_tokens,
            completion_tokens=reply.completion_tokens,
            reasoning_tokens=reply.reasoning_tokens,
            reasoning_effort=prepared.efforts.get(target.label),
            cost=cost,
            cost_parts=_parts(priced),
            latency_ms=round(reply.latency_ms, 2),
            cached=reply.cached,
            attempts=reply.attempts,
        )
        seen = Observation(output, target.label, reply.prompt_tokens, reply.completion_tokens, cost, reply.latency_ms, reply.cached, case.vars)
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


def _parts(priced: Any) -> list[CostPartResult] | None:
    if priced is None:
        return None
    fields = set(CostPartResult.model_fields)
    return [
        CostPartResult.model_construct(
            fields, part=p.part, tokens=p.tokens, unit_price=p.unit_price, cost=p.cost, price_field=p.price_field, note=p.note
        )
        for p in priced.parts
    ]


def _measured(prepared: list[PreparedSuite], results: list[CaseResult]) -> Any:
    suites = [
        SuiteCalls(
            suite=p.display,
            prompt=prompt_key(p.config.root, p.doc.path),
            prompt_sha256=p.prompt_sha256,
            models={t.label: (t.card.name if t.card is not None else t.label, p.efforts.get(t.label)) for t in p.targets},
        )
        for p in prepared
        if p.runnable and p.doc is not None and p.prompt_sha256
    ]
    return measure(suites, results)


def _client(options: RunOptions, prepared: list[PreparedSuite]) -> ModelClient:
    evals = prepared[0].config.settings.evals if prepared else None
    settings = CallSettings(
        timeout=options.timeout or (evals.timeout if evals else 60.0),
        retries=options.retries if options.retries is not None else (evals.retries if evals else 3),
        backoff=evals.retry_backoff if evals else 1.0,
    )
    return ModelClient(settings=settings, secrets=Secrets(key_envs(prepared, options)))


def key_envs(prepared: list[PreparedSuite], options: RunOptions | None = None) -> list[str]:
    """Every variable a run may send as a key: the models', the judges' and every one the user config names."""
    from ..config.user import load_user_config

    user = load_user_config().settings
    names = [t.api_key_env for p in prepared for t in p.targets if t.api_key_env]
    names += [n for n in (user.evals.api_key_env, *(m.api_key_env for m in user.models.values())) if n]
    if options is not None and options.routing is not None and options.routing.api_key_env:
        names.append(options.routing.api_key_env)
    return list(dict.fromkeys(names))


def destinations(suites: list[LoadedSuite | Path | PreparedSuite], options: RunOptions | None = None) -> list[CallDestination]:
    """Where each model of these suites would be called (judge and embedding models included) and who
    decided it; shown before every run. Never raises; a suite that cannot run has no destinations."""
    options = options or RunOptions()
    found: list[tuple[Target, str]] = []
    for suite in suites:
        try:
            prepared = suite if isinstance(suite, PreparedSuite) else prepare(suite if isinstance(suite, LoadedSuite) else load_suite(suite), options)
            if not prepared.runnable:
                continue
            found += [(t, "model") for t in prepared.targets]
            for model, role in _graders(prepared):
                found.append((prepared.target(model), role))
        except Exception:  # a suite that cannot be prepared is reported by the run itself
            continue
    return [CallDestination(model=d.model, role=d.role, host=d.host, source=d.source, key_env=d.key_env) for d in destinations_of(found)]  # type: ignore[arg-type]


def _graders(prepared: PreparedSuite) -> list[tuple[str, str]]:
    found: dict[tuple[str, str], None] = {}
    for case in prepared.loaded.cases:
        for a in case.assertions:
            if isinstance(a, RubricAssertion) and (a.model or prepared.judge_model):
                found[(a.model or prepared.judge_model, "judge")] = None  # type: ignore[index]
            elif isinstance(a, SimilarAssertion) and (a.model or prepared.embedding_model):
                found[(a.model or prepared.embedding_model, "embedding")] = None  # type: ignore[index]
    return list(found)


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
        await asyncio.to_thread(cache.remove_stale_temp_files)  # left by a run that was killed
        cache.start_writer()
    try:
        finished = await run.execute(cancel)
    finally:
        for cache in caches:
            await asyncio.to_thread(cache.close)
    results = _ordered(run.results, prepared)
    models = summarize(results)
    spent = sum((r.cost or 0.0) for r in results if not r.cached) + sum((r.grading_cost or 0.0) for r in results)
    result = RunResult(
        version=__version__,
        started_at=started_at,
        seconds=round(time.perf_counter() - started, 3),
        cancelled=not finished,
        suites=[p.summary() for p in prepared],
        models=models,
        results=results,
        spent=spent,
        cached=sum(1 for r in results if r.cached),
        destinations=destinations(prepared, options),
        usage=_measured(prepared, results),
    )
    client.secrets.scrub_run(result)
    return result


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
