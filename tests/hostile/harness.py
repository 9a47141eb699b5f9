"""Build the hostile workspace of tests/hostile in a temporary folder, with its generated cases."""

from __future__ import annotations

import importlib.util
import shutil
from dataclasses import dataclass, field
from pathlib import Path

HERE = Path(__file__).resolve().parent
STATIC = HERE / "workspace"
GENERATORS = HERE / "gen"

# Secrets of the lengths the scrubber must catch: short master keys like LiteLLM's `sk-1234` included.
SECRETS = {
    "OPENAI_API_KEY": "sk-" + "o" * 37,  # 40 characters
    "ANTHROPIC_API_KEY": "sk-ant-12345",  # 12
    "LITELLM_MASTER_KEY": "sk-1234",  # 7
    "AWS_SECRET_ACCESS_KEY": "AWSSECRETvalue0123456789abcdefghijklmnop",
}
SECRET_FILE_TEXT = "PRIVATE-KEY-MATERIAL-5f2b9c"


@dataclass
class HostileContext:
    root: Path  # the temporary folder holding workspace/, outside/ and the marker's folder
    workspace: Path
    marker: Path  # an attack that runs code creates this; it must never exist
    secret_file: Path  # outside the workspace
    home: Path  # HOME for the run: ~/.ssh/id_rsa holds the secret too
    secrets: dict[str, str] = field(default_factory=lambda: dict(SECRETS))

    def all_secrets(self) -> list[str]:
        return [*self.secrets.values(), SECRET_FILE_TEXT]


def _substitute(text: str, ctx: HostileContext) -> str:
    return (
        text.replace("@MARKER@", str(ctx.marker))
        .replace("@SECRET_FILE@", str(ctx.secret_file))
        .replace("@SECRET_DIR@", str(ctx.secret_file.parent))
    )


def build_workspace(tmp: Path) -> HostileContext:
    outside = tmp / "outside"
    outside.mkdir(parents=True)
    secret_file = outside / "id_rsa"
    secret_file.write_text(SECRET_FILE_TEXT + "\n")
    home = tmp / "home"
    (home / ".ssh").mkdir(parents=True)
    (home / ".ssh" / "id_rsa").write_text(SECRET_FILE_TEXT + "\n")
    ctx = HostileContext(
        root=tmp, workspace=tmp / "workspace", marker=tmp / "marker" / "PWNED", secret_file=secret_file, home=home
    )
    ctx.marker.parent.mkdir()
    for source in sorted(STATIC.rglob("*")):
        target = ctx.workspace / source.relative_to(STATIC)
        if source.is_dir():
            target.mkdir(parents=True, exist_ok=True)
            continue
        target.parent.mkdir(parents=True, exist_ok=True)
        try:
            target.write_text(_substitute(source.read_text(encoding="utf-8"), ctx), encoding="utf-8")
        except UnicodeDecodeError:
            shutil.copyfile(source, target)
    ctx.workspace.mkdir(exist_ok=True)
    for module_path in sorted(GENERATORS.glob("*.py")):
        spec = importlib.util.spec_from_file_location(f"hostile_gen_{module_path.stem}", module_path)
        assert spec and spec.loader
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        module.generate(ctx.workspace, ctx)
    return ctx
