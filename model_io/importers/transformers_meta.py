"""What a transformers model needs to run its forward on the meta device, for every reference that builds one
(`hf:PATH`, a user's `.py` whose function returns `LlamaForCausalLM(config)`, a model that holds one).

transformers reads tensor values to pick a faster path or to warn (`(position_ids[:, -1] == 0).all()` to find
packed sequences, `pad_token_id in input_ids` to warn about padding) unless it is tracing, and asks
`is_tracing(tensor)`, which asks `is_fake_tensor(tensor)`. A meta tensor has no values, as a fake tensor has none:
during the forward it counts as one, so transformers takes the path it takes under torch.export (masks built,
attention counted) instead of reading values with `.item()`. Worker side; transformers is never imported here for
a model that does not already use it.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any


def holds_transformers_model(model: Any) -> bool:
    """Whether `model` is, or holds, a transformers `PreTrainedModel`."""
    transformers = sys.modules.get("transformers")
    if transformers is None or not hasattr(model, "modules"):
        return False
    base = getattr(transformers, "PreTrainedModel", None)
    return base is not None and any(isinstance(m, base) for m in model.modules())


@contextmanager
def meta_values_unknown(model: Any) -> Iterator[None]:
    """For the duration, a meta tensor is a fake tensor to transformers (when `model` holds a transformers model)."""
    if not holds_transformers_model(model):
        yield
        return
    from transformers.utils import import_utils

    is_fake = getattr(import_utils, "is_fake_tensor", None)
    if is_fake is None:  # a transformers without it: nothing to switch
        yield
        return

    def fake_or_meta(x: Any) -> bool:
        return bool(getattr(x, "is_meta", False)) or is_fake(x)

    import_utils.is_fake_tensor = fake_or_meta
    try:
        yield
    finally:
        import_utils.is_fake_tensor = is_fake
