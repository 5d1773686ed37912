"""Models from the libraries users have, built without weights: `torchvision:NAME`, `timm:NAME`, `hf:PATH`.
Worker side (imports torch and the library); nothing is downloaded.

- `torchvision:NAME` builds the `torchvision.models` builder for the architecture of its DEFAULT weights (the one
  whose `num_params` and `_ops` torchvision publishes: ViT-H/14 at 518 px, 1000 classes), with the weight download
  skipped; the default input comes from those weights' transforms. `torchvision:NAME(weights="IMAGENET1K_V1")`
  picks another entry; any other keyword argument builds with `weights=None` and those arguments.
- `timm:NAME` is `timm.create_model(NAME, pretrained=False)`, its input the model's `pretrained_cfg` input size.
- `hf:PATH` (a folder with `config.json`, or the json file) builds the class named in `architectures`, else the
  base model for the config, from the config alone (offline). Inputs are passed by keyword, in the order of
  `input_names` (token ids by default; `--input` gives them in that order).
"""

from __future__ import annotations

import difflib
import inspect
import os
import re
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..errors import FailureKind, LoadFailure
from ..model_ref import LIBRARY_KINDS, ModelRef, RefKind, library_installed
from ..versions import is_torchvision_mismatch, torchvision_mismatch
from .model_build import construct

Specs = list[tuple[tuple[int, ...], str]]
DEFAULT_TOKENS = 128  # sequence length of the default token input (capped at the model's positions)
VIDEO_FRAMES = 16  # torchvision's video models are evaluated on 16-frame clips (their `clip_len`)


@dataclass
class LibraryModel:
    model: Any
    inputs: Specs  # the default input: (shape with batch, dtype) per forward argument
    notes: list[str] = field(default_factory=list)


installed = library_installed  # re-exported for the worker side and tests


def build(ref: ModelRef, weightless: bool = True) -> LibraryModel:
    """The model `ref` names with its default input; LoadFailure for a missing library or an unknown name."""
    library = LIBRARY_KINDS[ref.kind]
    if not installed(library):
        raise LoadFailure(f"{ref.label()}: {library} is not installed here (pip install {library})",
                          kind=FailureKind.USAGE)
    return _BUILDERS[ref.kind](ref, weightless)


def _unknown(ref: ModelRef, names: list[str], what: str) -> LoadFailure:
    close = difflib.get_close_matches(ref.path, names, n=5, cutoff=0.6)
    hint = f"; did you mean {', '.join(close)}?" if close else ""
    return LoadFailure(f"{ref.label()}: {what} has no model {ref.path!r}{hint}", kind=FailureKind.USAGE)


def _call(ref: ModelRef) -> str:
    args = ", ".join(f"{k}={v!r}" for k, v in ref.kwargs.items())
    return f"{ref.path}({args})"


# --- torchvision -------------------------------------------------------------------------------------------

def import_torchvision() -> Any:
    """`torchvision`, or a LoadFailure saying that its build does not match torch's (not the bare operator
    error its import raises then)."""
    try:
        import torchvision  # heavy: imported only when its models are asked for
    except (RuntimeError, OSError, ImportError) as e:  # its C++ operators failed to register against this torch
        if is_torchvision_mismatch(e):
            raise LoadFailure(torchvision_mismatch(e), kind=FailureKind.USAGE) from None
        raise
    return torchvision


class _NoWeights(dict):
    """What a weights entry hands its builder instead of downloaded tensors; loading it does nothing."""


@contextmanager
def _no_weight_download() -> Iterator[None]:
    """Builders given a weights entry set the architecture it needs (classes, image size), then download and load
    its state_dict: here they get an empty one, and loading it is skipped."""
    from torch import nn
    from torchvision.models._api import WeightsEnum

    get_state_dict, load_state_dict = WeightsEnum.get_state_dict, nn.Module.load_state_dict

    def no_download(self: Any, *args: Any, **kwargs: Any) -> dict:
        return _NoWeights()

    def load(self: nn.Module, state_dict: Any, *args: Any, **kwargs: Any) -> Any:
        if isinstance(state_dict, _NoWeights):
            return nn.modules.module._IncompatibleKeys([], [])
        return load_state_dict(self, state_dict, *args, **kwargs)

    WeightsEnum.get_state_dict = no_download  # type: ignore[method-assign]
    nn.Module.load_state_dict = load  # type: ignore[method-assign]
    try:
        yield
    finally:
        WeightsEnum.get_state_dict = get_state_dict  # type: ignore[method-assign]
        nn.Module.load_state_dict = load_state_dict  # type: ignore[method-assign]


def torchvision_weights(name: str, choice: str | None = None) -> Any:
    import_torchvision()
    """The weights entry of builder `name` (DEFAULT, or the one named `choice`), or None if it has none."""
    from torchvision import models

    try:
        enum = models.get_model_weights(name)
    except (ValueError, KeyError):
        return None
    if choice is None:
        return getattr(enum, "DEFAULT", None) or next(iter(enum), None)
    try:
        return enum[choice.split(".")[-1]]
    except KeyError:
        raise LoadFailure(f"torchvision:{name}: no weights {choice!r} (it has {', '.join(e.name for e in enum)})",
                          kind=FailureKind.USAGE) from None


def _torchvision(ref: ModelRef, weightless: bool) -> LibraryModel:
    import_torchvision()
    from torchvision import models

    names = models.list_models()
    if ref.path not in names:
        raise _unknown(ref, names, "torchvision.models")
    builder = models.get_model_builder(ref.path)
    kwargs = dict(ref.kwargs)
    choice = kwargs.pop("weights", None)
    weights = torchvision_weights(ref.path, choice) if choice is not None or not kwargs else None
    notes: list[str] = []
    float_name = ref.path.removeprefix("quantized_")
    if weights is not None and type(weights).__name__.endswith("QuantizedWeights") and float_name in names:
        # int8 modules keep packed weights outside nn.Parameters, run ops no formula covers, and need real tensors:
        # count the float model they quantize, at its own DEFAULT weights' architecture (no auxiliary heads);
        # torchvision publishes the same parameters and GMACs for both
        builder, weights = models.get_model_builder(float_name), torchvision_weights(float_name)
        kwargs["weights"] = weights
        notes.append(f"counted as the float architecture of {ref.path} ({float_name}: the same parameters and MACs)")
    elif weights is not None:
        kwargs["weights"] = weights
    else:
        kwargs["weights"] = None
        if "weights_backbone" in inspect.signature(builder).parameters:
            kwargs.setdefault("weights_backbone", None)  # its default would download the backbone's weights
    with _no_weight_download():
        model, built_notes = construct(lambda: builder(**kwargs), f"torchvision.models.{_call(ref)}", (), weightless)
    return LibraryModel(model, torchvision_inputs(ref.path, weights or torchvision_weights(ref.path)),
                        notes + built_notes)


def torchvision_inputs(name: str, weights: Any) -> Specs:
    """An input as the weights' transforms produce it (crop or resize size; video clips of 16 frames)."""
    transforms = weights.transforms() if weights is not None else None
    kind = type(transforms).__name__
    size = list(getattr(transforms, "crop_size", None) or getattr(transforms, "resize_size", None) or [224])
    h, w = (size[0], size[0]) if len(size) == 1 else (size[0], size[1])
    if kind == "VideoClassification":
        return [((1, 3, VIDEO_FRAMES, h, w), "float32")]
    if kind == "OpticalFlow":  # a pair of frames, at the 512 x 512 of torchvision's published figures
        return [((1, 3, 512, 512), "float32")] * 2
    if kind == "ObjectDetection":  # any size: the model's own transform resizes it (800 px for the R-CNNs)
        return [((1, 3, 800, 800), "float32")]
    return [((1, 3, h, w), "float32")]


# --- timm --------------------------------------------------------------------------------------------------

def _timm(ref: ModelRef, weightless: bool) -> LibraryModel:
    import timm

    if not timm.is_model(ref.path):
        raise _unknown(ref, timm.list_models(), "timm")
    kwargs = {**ref.kwargs, "pretrained": False}
    model, notes = construct(lambda: timm.create_model(ref.path, **kwargs), f"timm.create_model({_call(ref)})", (),
                             weightless)
    cfg = getattr(model, "pretrained_cfg", None) or getattr(model, "default_cfg", None) or {}
    size = tuple(cfg.get("input_size") or (3, 224, 224))
    return LibraryModel(model, [((1, *size), "float32")], notes)


# --- Hugging Face transformers -----------------------------------------------------------------------------

def _hf_config(ref: ModelRef) -> Any:
    os.environ.setdefault("HF_HUB_OFFLINE", "1")  # a config on disk, never the Hub
    os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
    from transformers import AutoConfig

    path = Path(ref.path).expanduser()
    if not path.exists():
        raise LoadFailure(f"{ref.label()}: no such file or folder", kind=FailureKind.USAGE)
    if path.is_dir() and not (path / "config.json").is_file():
        raise LoadFailure(f"{ref.label()}: the folder has no config.json", kind=FailureKind.USAGE)
    try:
        config = AutoConfig.from_pretrained(str(path), local_files_only=True)
    except Exception as e:
        first = str(e).strip().splitlines()[0][:200] if str(e).strip() else type(e).__name__
        raise LoadFailure(f"{ref.label()}: not a readable transformers config ({first})",
                          kind=FailureKind.FORMAT) from None
    for key, value in ref.kwargs.items():  # hf:PATH(num_hidden_layers=2) overrides config fields
        setattr(config, key, value)
    return config


def _hf_class(config: Any) -> tuple[Any, str]:
    import transformers

    for arch in getattr(config, "architectures", None) or ():
        cls = getattr(transformers, arch, None)
        if cls is not None:
            return cls, arch
    return transformers.AutoModel, f"AutoModel ({type(config).__name__})"


def _hf(ref: ModelRef, weightless: bool) -> LibraryModel:
    import torch  # heavy: worker only

    config = _hf_config(ref)
    cls, what = _hf_class(config)
    dtype = getattr(config, "dtype", None) or getattr(config, "torch_dtype", None)
    if isinstance(dtype, str):
        dtype = getattr(torch, dtype, None)

    def make() -> Any:
        if cls.__name__ == "AutoModel":
            return cls.from_config(config, **({"dtype": dtype} if dtype is not None else {}))
        model = cls._from_config(config, **({"dtype": dtype} if dtype is not None else {}))
        return model

    model, notes = construct(make, f"{what} from {ref.label()}", (), weightless)
    names, specs = hf_inputs(model, config)
    bind_keyword_inputs(model, names, use_cache=bool(ref.kwargs.get("use_cache", False)))
    notes = [*notes, f"built {what} from the config; inputs by keyword: {', '.join(names)}"]
    return LibraryModel(model, specs, notes)


def _sub(config: Any, *keys: str) -> Any:
    for key in keys:
        sub = getattr(config, key, None)
        if sub is not None:
            return sub
    return config


def _positions(config: Any) -> int:
    text = _sub(config, "text_config")
    limit = getattr(text, "max_position_embeddings", None) or getattr(text, "n_positions", None)
    return min(DEFAULT_TOKENS, int(limit)) if limit else DEFAULT_TOKENS


def hf_inputs(model: Any, config: Any) -> tuple[list[str], Specs]:
    """The forward's inputs by keyword, with the default shape of each: token ids, pixels, audio features."""
    params = inspect.signature(model.forward).parameters
    main = getattr(model, "main_input_name", "input_ids")
    tokens = ((1, _positions(config)), "int64")
    out: list[tuple[str, tuple[tuple[int, ...], str]]] = []
    if "input_ids" in params and main not in ("pixel_values", "input_features", "input_values"):
        out.append(("input_ids", tokens))  # text models, and the text side of CLIP-like ones
    if "pixel_values" in params:
        vision = _sub(config, "vision_config")
        size = getattr(vision, "image_size", 224)
        size = size if isinstance(size, int) else int(size[0]) if isinstance(size, (list, tuple)) else 224
        out.append(("pixel_values", ((1, int(getattr(vision, "num_channels", 3)), size, size), "float32")))
    if "input_features" in params:  # speech encoders (Whisper): log-mel frames
        frames = 2 * int(getattr(config, "max_source_positions", 1500))
        out.append(("input_features", ((1, int(getattr(config, "num_mel_bins", 80)), frames), "float32")))
    if "input_values" in params and "input_features" not in params:  # raw audio (wav2vec2): one second at 16 kHz
        out.append(("input_values", ((1, 16000), "float32")))
    if getattr(config, "is_encoder_decoder", False) and "decoder_input_ids" in params:
        out.append(("decoder_input_ids", tokens))
    if not out:
        out.append(("input_ids", tokens))
    return [n for n, _ in out], [s for _, s in out]


def bind_keyword_inputs(model: Any, names: list[str], use_cache: bool = False) -> None:
    """Make `model(*inputs)` (how the tracer calls it) pass the inputs as `names=` keywords. No key/value cache
    unless `hf:PATH(use_cache=True)` asks for one: counting one forward, a cache only adds its own bookkeeping."""
    forward: Callable[..., Any] = model.forward
    extra = {"use_cache": use_cache} if "use_cache" in inspect.signature(forward).parameters else {}

    def by_keyword(*inputs: Any, **named: Any) -> Any:
        if len(inputs) > len(names):
            raise TypeError(f"forward() takes {len(names)} inputs ({', '.join(names)}), {len(inputs)} given")
        return forward(**dict(zip(names, inputs, strict=False)), **{**extra, **named})

    # the signature names the inputs, as a caller (or a tool calling forward(**inputs)) expects
    by_keyword.__signature__ = inspect.Signature(  # type: ignore[attr-defined]
        [inspect.Parameter(n, inspect.Parameter.POSITIONAL_OR_KEYWORD, default=None) for n in names])
    model.forward = by_keyword


# --- catalogues (for the app's menus) ----------------------------------------------------------------------

_BUILDERS: dict[RefKind, Callable[[ModelRef, bool], LibraryModel]] = {
    RefKind.TORCHVISION: _torchvision, RefKind.TIMM: _timm, RefKind.HF: _hf}


_SKIP = re.compile(r"^quantized_")  # quantized builders share the float models' architectures


def catalogue(library: str) -> list[str]:
    """The model names a library offers, sorted (imports the library: run it in a separate process)."""
    if library == "torchvision":
        import_torchvision()
        from torchvision import models

        return sorted(n for n in models.list_models() if not _SKIP.match(n))
    if library == "timm":
        import timm

        return sorted(timm.list_models())
    raise ValueError(f"no catalogue for {library!r} (torchvision, timm)")


def main(argv: list[str]) -> int:
    """`python -m netcost.model_io.importers.library_models torchvision|timm`: the names as one JSON list on stdout
    (for the app, which never imports torch itself)."""
    import json
    import sys

    if len(argv) != 1 or not library_installed(argv[0]):
        print(f"usage: python -m netcost.model_io.importers.library_models torchvision|timm (installed); got {argv}",
              file=sys.stderr)
        return 2
    try:
        names = catalogue(argv[0])
    except LoadFailure as e:  # a torchvision built for another torch: the dialog shows this last line
        print(e.message, file=sys.stderr)
        return 1
    print(json.dumps(names))
    return 0


if __name__ == "__main__":
    import sys

    sys.exit(main(sys.argv[1:]))
