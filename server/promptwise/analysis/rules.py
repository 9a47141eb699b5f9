"""Every finding code promptwise reports, with the one-line description used in SARIF and the docs."""

RULES: dict[str, str] = {
    "over-budget": "The prompt's input tokens per call exceed its budget.",
    "near-budget": "The prompt uses at least the warning share (warn_at) of its budget.",
    "context-overflow": "Input tokens plus the output reserved do not fit the model's context window.",
    "unknown-model": "The model is not in the catalog; tokens are an estimate and there is no price.",
    "invalid-frontmatter": "The YAML frontmatter cannot be parsed or has a value of the wrong type.",
    "missing-include": "A partial, import or linked file does not exist or cannot be read.",
    "include-cycle": "Includes refer back to a file already being included.",
    "undefined-variable": "A template variable has no sample, example or default value.",
    "duplicated-paragraph": "A paragraph repeats an earlier one word for word and is paid for twice.",
    "template-error": "The template cannot be parsed or rendered.",
    "tools-not-counted": "Tools named in the file are defined in code, so their tokens are not counted.",
    "tokenizer-unavailable": "The model's tokenizer files are missing; another tokenizer stands in.",
    "invalid-utf8": "The file is not valid UTF-8; bad bytes are counted as replacement characters.",
    "binary-file": "The file is binary and was skipped.",
    "file-too-large": "The file is over max_file_size and was not analyzed.",
    "unreadable-file": "The file could not be read: missing, not a regular file (a FIFO, device or symlink loop), or outside the workspace.",
    "analysis-failed": "Analyzing the file failed; the reason is given and the other files are still analyzed.",
    "invalid-request": "A .json chat request body is not valid JSON or not a chat request.",
    "invalid-config": "A promptwise setting is invalid; its default is used instead.",
}
