"""Model routing: which cheaper models suit a prompt, ranked by what a call to each would really cost.

A candidate must
- be a chat model (litellm mode "chat") with a price, from an allowed provider: `allowed_providers`
  in config, or by default the current model's provider plus providers whose API key is set (`providers`);
- be a distinct, current model: not a fine-tune, a regional deployment, a special-purpose variant
  (audio, search, realtime, ...) or a duplicate (dated snapshots and `-latest` aliases collapse to the
  canonical name), not past its deprecation date, and not retiring within `suggest_min_days_left`
  days (default 90) (`candidates`);
- cost less per call by the full cost of the cost model (`pricing/`): the prompt counted with the
  candidate's own tokenizer, warm when its provider caches the stable prefix, its reasoning at the
  file's effort or the model's default (measured in evals, configured in `[reasoning]`, else assumed);
- hold the prompt, the reserved output and its reasoning in its context window, allow the file's max
  output and hold output plus reasoning in its own;
- support what the prompt uses: tools -> function calling, images -> vision, an output schema or
  JSON mode -> response schema, reasoning settings -> reasoning;
- be writable in the file's own syntax (`fixes.model_edits`), and resolve back to the same catalog
  entry once written: the price shown is the price promptwise computes after the switch.
Each suggestion says what its figure rests on (`Suggestion.basis`): warm or cold, and the reasoning with its source.
"""

from .providers import KEY_ENV, allowed_providers, provider_family
from .suggest import MIN_SAVING, suggest_models
from .suggestions import CAPABILITY_NAMES, DEFAULT_LIMIT, Exclusion, Suggestion, Suggestions, basis

__all__ = [
    "CAPABILITY_NAMES",
    "DEFAULT_LIMIT",
    "KEY_ENV",
    "MIN_SAVING",
    "Exclusion",
    "Suggestion",
    "Suggestions",
    "allowed_providers",
    "basis",
    "provider_family",
    "suggest_models",
]
