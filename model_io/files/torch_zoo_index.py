"""Names and descriptions of the built-in torch models (resources/zoo_models.py), without importing torch:
`netcost zoo` and the app's model menu list them instantly. A test keeps this in step with the zoo itself."""

from __future__ import annotations

TORCH_ZOO: dict[str, str] = {
    "alexnet-module": "The article's AlexNet as an nn.Module (convs without bias)",
    "vgg16": "VGG-16 (torchvision layout, 138,357,544 params)",
    "resnet18": "ResNet-18 (11,689,512 params)",
    "resnet50": "ResNet-50 (25,557,032 params)",
    "mobilenet_v2": "MobileNetV2 (3,504,872 params)",
    "inception_block": "An Inception-v1 block (GoogLeNet 3a) at 192x28x28",
    "lstm_tagger_module": "Embedding -> 2-layer LSTM -> 17 tags, 50 tokens",
    "gru": "2-layer GRU classifier over 100 steps of 128 features",
    "transformer_encoder": "nn.TransformerEncoder, 6 layers, d=512, 8 heads, 128 tokens",
    "gpt2": "GPT-2 small (SDPA attention, tied head; 124,439,808 params), 1,024 tokens",
    "llama7b": "Llama-like 7B config (meta device only), 2,048 tokens",
    "llama70b": "Llama-like 70B config, GQA (meta device only), 2,048 tokens",
}

# Each entry's default input: (shape with batch, dtype) per forward argument, as resources/zoo_models.py has it.
TORCH_ZOO_INPUTS: dict[str, tuple[tuple[tuple[int, ...], str], ...]] = {
    "alexnet-module": (((1, 3, 224, 224), "float32"),),
    "vgg16": (((1, 3, 224, 224), "float32"),),
    "resnet18": (((1, 3, 224, 224), "float32"),),
    "resnet50": (((1, 3, 224, 224), "float32"),),
    "mobilenet_v2": (((1, 3, 224, 224), "float32"),),
    "inception_block": (((1, 192, 28, 28), "float32"),),
    "lstm_tagger_module": (((1, 50), "int64"),),
    "gru": (((1, 100, 128), "float32"),),
    "transformer_encoder": (((1, 128, 512), "float32"),),
    "gpt2": (((1, 1024), "int64"),),
    "llama7b": (((1, 2048), "int64"),),
    "llama70b": (((1, 2048), "int64"),),
}

# Entries too large to build with real weights (built on the meta device only): they cannot be measured.
TORCH_ZOO_META_ONLY: frozenset[str] = frozenset({"llama7b", "llama70b"})
