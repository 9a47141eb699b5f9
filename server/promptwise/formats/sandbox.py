"""The Jinja2 environment Prompty bodies render in: sandboxed, and within the document's budget.

A prompt file is data from a repository nobody vetted. Its template may only read the sample values it
is given: no attribute of a function, class or module, nothing starting with `_`, no loader (so no
`include`/`import`/`extends`), no `lipsum`, and every operation that can multiply work or text (loops,
calls, `*`, `**`, `+`, `%`, `~`, padding and replacing filters) is charged to the document's `Budget`.
"""

from __future__ import annotations

import contextvars
import re
import types
from functools import wraps
from typing import Any, Callable

import jinja2
from jinja2 import nodes
from jinja2.exceptions import SecurityError
from jinja2.sandbox import ImmutableSandboxedEnvironment
from jinja2.utils import Cycler, Joiner, Namespace, pass_context

from .limits import DEFAULT_LIMITS, Budget, LimitExceeded, size_words

_BUDGET: contextvars.ContextVar[Budget | None] = contextvars.ContextVar("promptwise_render_budget", default=None)
# Objects whose attributes lead to code, globals or the interpreter, never to prompt data.
_CODE_TYPES = (
    types.FunctionType,
    types.MethodType,
    types.BuiltinFunctionType,
    types.BuiltinMethodType,
    types.MethodWrapperType,
    types.WrapperDescriptorType,
    types.MethodDescriptorType,
    types.ModuleType,
    types.CodeType,
    types.FrameType,
    types.TracebackType,
    types.GeneratorType,
    types.CoroutineType,
    type,
)
_MAX_INT_BITS = 100_000  # ~30,000 digits: far more than a prompt needs, far less than a hang
_SIZED = (str, bytes, list, tuple, dict, set, frozenset)
# Filters and string methods whose numbers are sizes of what they make.
_SIZE_FILTERS = frozenset(["center", "indent", "wordwrap", "truncate", "batch", "slice"])
_SIZE_METHODS = frozenset(["ljust", "rjust", "center", "zfill", "expandtabs"])
_OUT = "_promptwise_out"
_ITER = "_promptwise_iter"
_CONCAT = "_promptwise_concat"


def _budget() -> Budget:
    budget = _BUDGET.get()
    if budget is None:  # compiling or finding variables; nothing is rendered
        budget = Budget(DEFAULT_LIMITS)
    return budget


def render_within(template: jinja2.Template, values: dict[str, Any], budget: Budget) -> str:
    token = _BUDGET.set(budget)
    try:
        return template.render(values)
    finally:
        _BUDGET.reset(token)


def _too_big(n: int, what: str) -> LimitExceeded:
    cap = _budget().limits.output
    return LimitExceeded(f"rendering stopped: {what} would make {n:,} characters or items, over the {size_words(cap)} output limit")


def _check_size(n: int, what: str) -> None:
    if n > _budget().limits.output:
        raise _too_big(n, what)


def _check_ints(args: tuple[Any, ...], kwargs: dict[str, Any], what: str) -> None:
    cap = _budget().limits.output
    for value in (*args, *kwargs.values()):
        if isinstance(value, int) and not isinstance(value, bool) and abs(value) > cap:
            raise LimitExceeded(f"rendering stopped: {what} was given {value:,}, over the {size_words(cap)} output limit")


_PRINTF_WIDTH = re.compile(r"%(?:\([^)]*\))?[-#0 +]*(\d*)(?:\.(\d+))?")
_FORMAT_SPEC = re.compile(r"\{[^{}]*:([^{}]*)\}")


def _check_format(spec: Any, what: str, printf: bool) -> None:
    """A width or precision in a format string (`%999999999d`, `{:>999999999}`) is a size too; other
    digits in the text (a phone number) are not."""
    if not isinstance(spec, str):
        return
    cap = _budget().limits.output
    digits = len(str(cap))
    if printf:
        widths = (w for m in _PRINTF_WIDTH.finditer(spec) for w in m.groups() if w)
    else:
        widths = (run for m in _FORMAT_SPEC.finditer(spec) for run in re.findall(r"\d+", m.group(1)))
    for width in widths:
        if len(width) > digits or int(width) > cap:
            raise LimitExceeded(f"rendering stopped: {what} asks for a width of {width[:20]}, over the {size_words(cap)} output limit")


def _sized(value: Any) -> int:
    return len(value) if isinstance(value, _SIZED) else 0


def _check_result(value: Any, what: str) -> Any:
    _check_size(_sized(value), what)
    if isinstance(value, int) and not isinstance(value, bool) and value.bit_length() > _MAX_INT_BITS:
        raise LimitExceeded(f"rendering stopped: {what} made a number of {value.bit_length():,} bits")
    return value


def _replace_size(text: Any, old: Any, new: Any) -> int:
    if not isinstance(text, str) or not isinstance(old, str) or not isinstance(new, str):
        return 0
    count = len(text) + 1 if old == "" else text.count(old)
    return len(text) + count * len(new)


def _estimate(name: str, subject: Any, args: tuple[Any, ...], kwargs: dict[str, Any]) -> int:
    """How large a string method's or filter's result can be, before it is built."""
    if name == "replace" and len(args) >= 2:
        return _replace_size(subject, args[0], args[1])
    if name == "expandtabs" and isinstance(subject, str):
        size = args[0] if args else kwargs.get("tabsize", 8)
        return len(subject) * max(1, size if isinstance(size, int) else 8)
    if name == "indent" and isinstance(subject, str):
        width = args[0] if args else kwargs.get("width", 4)
        per_line = len(width) if isinstance(width, str) else width if isinstance(width, int) else 4
        return len(subject) + per_line * (subject.count("\n") + 1)
    return 0


def _guard_filter(name: str, func: Callable[..., Any]) -> Callable[..., Any]:
    passes = getattr(func, "jinja_pass_arg", None)

    @wraps(func)
    def guarded(*args: Any, **kwargs: Any) -> Any:
        budget = _budget()
        budget.charge_step()
        data = args[1:] if passes is not None else args  # the context or environment comes first
        what = f"the {name} filter"
        if name in _SIZE_FILTERS:
            _check_ints(data[1:], kwargs, what)
        if name == "format" and data:
            _check_format(data[0], what, printf=True)
            if isinstance(data[0], str) and "*" in data[0]:  # `%*d` takes its width from the arguments
                _check_ints(data[1:], {}, what)
        if data:
            _check_size(_estimate(name, data[0], data[1:], kwargs), what)
        return _check_result(func(*args, **kwargs), what)

    if passes is not None:
        guarded.jinja_pass_arg = passes  # type: ignore[attr-defined]
    return guarded


def _range(*args: Any) -> range:
    numbers = range(*args)
    budget = _budget()
    if len(numbers) > budget.limits.iterations:
        raise LimitExceeded(
            f"rendering stopped: range() of {len(numbers):,} numbers is over the limit of "
            f"{budget.limits.iterations:,} loop iterations (derived from max_file_size)"
        )
    return numbers


@pass_context
def _out(context: Any, value: Any) -> str:
    """Every piece of output, captured blocks and macro bodies included, is charged as it is made."""
    text = value if isinstance(value, str) else str(value)
    _budget().charge_output(len(text))
    return text


@pass_context
def _iter(context: Any, iterable: Any) -> Any:
    budget = _budget()
    for item in iterable:
        budget.charge_step()
        yield item


@pass_context
def _concat(context: Any, parts: list[Any]) -> str:
    pieces = [p if isinstance(p, str) else str(p) for p in parts]
    _check_size(sum(map(len, pieces)), "joining strings with ~")
    return "".join(pieces)


class PromptSandbox(ImmutableSandboxedEnvironment):
    """Jinja2 for templates that are data: see the module's docstring."""

    intercepted_binops = frozenset(["*", "**", "+", "%"])

    def __init__(self, undefined: type[jinja2.Undefined]) -> None:
        super().__init__(undefined=undefined, keep_trailing_newline=True, autoescape=False)
        self.globals = {"range": _range, "dict": dict, "cycler": Cycler, "joiner": Joiner, "namespace": Namespace}
        self.filters = {name: _guard_filter(name, f) for name, f in self.filters.items()}
        self.filters.update({_OUT: _out, _ITER: _iter, _CONCAT: _concat})

    def is_safe_attribute(self, obj: Any, attr: str, value: Any) -> bool:
        if isinstance(obj, _CODE_TYPES):
            return False
        return super().is_safe_attribute(obj, attr, value)

    def unsafe_undefined(self, obj: Any, attribute: str) -> jinja2.Undefined:
        raise SecurityError(f"access to attribute {attribute!r} of {_describe(obj)} is not allowed")

    def call_binop(self, context: Any, operator: str, left: Any, right: Any) -> Any:
        what = f"the {operator} operator"
        if operator == "*":
            for seq, times in ((left, right), (right, left)):
                if isinstance(times, int) and _sized(seq) and not isinstance(seq, (dict, set, frozenset)):
                    _check_size(_sized(seq) * max(times, 0), what)
            if isinstance(left, int) and isinstance(right, int) and left.bit_length() + right.bit_length() > _MAX_INT_BITS:
                raise LimitExceeded("rendering stopped: the * operator would make a number too large to render")
        elif operator == "**":
            if isinstance(left, int) and isinstance(right, int) and right > 0 and max(left.bit_length(), 1) * right > _MAX_INT_BITS:
                raise LimitExceeded(f"rendering stopped: {left} ** {right} is a number too large to render")
        elif operator == "+":
            if _sized(left) and _sized(right):
                _check_size(_sized(left) + _sized(right), what)
        elif operator == "%" and isinstance(left, str):
            _check_format(left, what, printf=True)
            if "*" in left:  # `%*d` takes its width from the arguments
                _check_ints(right if isinstance(right, tuple) else (right,), {}, what)
        _budget().charge_step()
        return _check_result(super().call_binop(context, operator, left, right), what)

    def call(__self, __context: Any, __obj: Any, *args: Any, **kwargs: Any) -> Any:  # noqa: N805 (jinja2's signature)
        name = getattr(__obj, "__name__", "a function")
        what = f"{name}()"
        _budget().charge_step()
        # The sandbox hands out str.format wrapped; the string it formats is the wrapped method's self.
        subject = getattr(getattr(__obj, "__wrapped__", __obj), "__self__", None)
        if isinstance(subject, str):
            if name in _SIZE_METHODS:
                _check_ints(args, kwargs, what)
            if name in ("format", "format_map"):
                _check_format(subject, what, printf=False)
                if re.search(r":[^{}]*\{", subject):  # a nested width (`{0:{1}}`) comes from an argument
                    for value in (*args, *kwargs.values(), *(v for a in args if isinstance(a, dict) for v in a.values())):
                        _check_format("{:" + value + "}" if isinstance(value, str) else None, what, printf=False)
                        _check_ints((value,), {}, what)
            _check_size(_estimate(name, subject, args, kwargs), what)
        return _check_result(super().call(__context, __obj, *args, **kwargs), what)

    def _parse(self, source: str, name: str | None, filename: str | None) -> nodes.Template:
        return _charged(super()._parse(source, name, filename))


def _describe(obj: Any) -> str:
    if isinstance(obj, type):
        return f"the class {obj.__name__}"
    if isinstance(obj, _CODE_TYPES):
        return f"a {type(obj).__name__.replace('_', ' ')}"
    return f"a {type(obj).__name__} value"


def _charged(tree: nodes.Template) -> nodes.Template:
    """The template with every output, loop and `~` routed through the budget's filters."""
    for node in tree.find_all(nodes.For):
        node.iter = _filter(node.iter, _ITER)
    for node in tree.find_all(nodes.Output):
        node.nodes = [_filter(nodes.Const(c.data, lineno=c.lineno) if isinstance(c, nodes.TemplateData) else c, _OUT) for c in node.nodes]
    # Lists are changed in place: a `~` inside a `~` shares its parent's list of operands.
    for parent in list(tree.find_all(nodes.Node)):
        for field in parent.fields:
            value = getattr(parent, field, None)
            if isinstance(value, nodes.Concat):
                setattr(parent, field, _concat_call(value))
            elif isinstance(value, list):
                value[:] = [_concat_call(v) if isinstance(v, nodes.Concat) else v for v in value]
    return tree


def _filter(node: nodes.Expr, name: str) -> nodes.Filter:
    return nodes.Filter(node, name, [], [], None, None, lineno=node.lineno)


def _concat_call(node: nodes.Concat) -> nodes.Filter:
    return _filter(nodes.List(node.nodes, lineno=node.lineno), _CONCAT)


def template_line(exc: BaseException) -> int | None:
    """The template line a rendering error was raised on (Jinja2 rewrites tracebacks to point there)."""
    line = None
    tb = exc.__traceback__
    while tb is not None:
        if tb.tb_frame.f_code.co_filename == "<template>":
            line = tb.tb_lineno
        tb = tb.tb_next
    return line
