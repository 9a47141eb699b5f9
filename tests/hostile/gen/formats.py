"""Hostile prompt files that cannot be checked in: large ones, FIFOs, device links, symlink loops and leaks."""

from __future__ import annotations

import os
from pathlib import Path


def generate(workspace: Path, ctx) -> None:
    fm = "---\nmodel: openai/gpt-4o\n---\n"
    # The Handlebars tokenizer was quadratic: 32 KB of `{{` took 21 s, 120 KB never finished.
    (workspace / "templates-braces.prompt").write_text(fm + "{{" * 61_440)
    (workspace / "templates-unclosed-comments.prompt").write_text(fm + "{{!--" * 40_000)
    # A `{{` left open runs on to the next `}}`: one tag of a megabyte, full of the quotes and brackets at
    # which the word splitter stops, and a half-typed tag before a megabyte of prose.
    (workspace / "templates-runaway-tag.prompt").write_text(fm + "{{x " + "( ' \" [ a=b ] ) " * 60_000 + "{{y}}\n")
    (workspace / "templates-half-typed.prompt").write_text(fm + '{{role "system"}}\n{{ro\n' + "Rule: be brief, don't guess.\n" * 40_000 + '{{role "user"}}\nHi\n')
    # A role name's quote left open before a megabyte: it closes in the next role tag; a closing tag left open.
    (workspace / "templates-open-role-name.prompt").write_text(fm + '{{role "system"}}\n{{role "us\n' + "Rule: say \"hi\" (twice), don't guess.\n" * 30_000 + '{{role "user"}}\nHi\n')
    (workspace / "templates-open-closing-tag.prompt").write_text(fm + '{{role "system"}}\n{{#if q}}yes{{/i\n' + "Rule: be brief.\n" * 60_000 + '{{role "user"}}\nHi\n')
    # Blocks nested far deeper than any template needs (rendering recursed once per level).
    (workspace / "templates-nested-blocks.prompt").write_text(fm + "{{#if a}}" * 5_000 + "x" + "{{/if}}" * 5_000)
    # A role line of many spaces made the role-line regex backtrack quadratically (the undefined
    # variable gives the file its finding, as every hostile case has one).
    (workspace / "templates-role-spaces.prompty").write_text("---\nmodel: gpt-4o\n---\n" + (" " * 100_000 + "x:\n") * 3 + "{{ undefined }}\n")

    # Scanners of instruction files: code spans, imports and links on adversarial text.
    scan = workspace / "files-scanners"
    scan.mkdir()
    text = "x" + "`" * 100_001 + "\n@" + "a/" * 100_000 + "\n" + ("@" + "b/" * 400 + " ") * 1_000 + "\n" + "[" * 100_000 + "\n" + "[](x" * 50_000 + "\n"
    (scan / "CLAUDE.md").write_text(text)
    (scan / "scan.prompt.md").write_text(text)

    # A prompt file that is not a regular file must be one finding, never a blocked or endless read.
    os.mkfifo(workspace / "files-fifo.prompty")
    os.symlink("/dev/zero", workspace / "files-zero.prompty")
    os.symlink(workspace / "files-loop-b.prompty", workspace / "files-loop-a.prompty")
    os.symlink(workspace / "files-loop-a.prompty", workspace / "files-loop-b.prompty")

    # Includes that are FIFOs, devices, loops or links out of the workspace.
    devices = workspace / "files-devices"
    devices.mkdir()
    os.mkfifo(devices / "pipe.md")
    os.symlink("/dev/zero", devices / "zero.md")
    os.symlink(devices / "loop2.md", devices / "loop1.md")
    os.symlink(devices / "loop1.md", devices / "loop2.md")
    os.symlink(ctx.secret_file, devices / "leak.md")
    (devices / "CLAUDE.md").write_text("Rules.\n@pipe.md\n@zero.md\n@loop1.md\n@leak.md\n@/dev/zero\n")
    (devices / "links.prompt.md").write_text("Read [pipe](pipe.md), [zero](zero.md), [leak](leak.md).\n")
    os.symlink(ctx.secret_file, devices / "_leak.prompt")
    os.mkfifo(devices / "_pipe.prompt")
    (devices / "partials.prompt").write_text(fm + "{{> leak}} {{> pipe}}\n")
    os.symlink(ctx.secret_file, devices / "sample.json")
    (devices / "sample.prompty").write_text("---\nmodel: gpt-4o\nsample: sample.json\n---\nuser:\n{{ key }}\n")
