"""CLIP image-encoder weights from OpenAI's TorchScript files or Hugging Face's safetensors, on EVL's backbone keys.

OpenAI's ``ViT-L-14.pt`` / ``ViT-B-16.pt`` are TorchScript archives (a zip: ``<root>/data.pkl`` pickles the module
tree, ``<root>/data/<n>`` hold the raw storages, ``<root>/code/`` the TorchScript program). EVL opens them with
``torch.jit.load``, which runs the archive's program; here the archive is never executed: ``data.pkl`` is read by a
restricted unpickler that only rebuilds tensors from the storages and records each module's attributes (TorchScript
classes become inert placeholders); any other global in the pickle is refused. The key mapping is EVL's
``weight_loaders.load_weights_clip`` (see :func:`map_openai`); :func:`map_transformers` maps the Hub's
``openai/clip-vit-*`` safetensors onto the same keys.
"""

from __future__ import annotations

import pickle
import zipfile
from pathlib import Path
from typing import Any, Mapping

import torch

from zoo.checkpoints import CheckpointError, resolve, sha256_of

OPENAI_URL = "https://openaipublic.azureedge.net/clip/models/{sha256}/{file}"
# the sha256 is the folder of each file's URL in openai/CLIP clip/clip.py
OPENAI_FILES = {
    "ViT-B/16": ("ViT-B-16.pt", "5806e77cd80f8b59890b7e101eabd078d9fb84e6937f9e85e4ecb61988df416f"),
    "ViT-L/14": ("ViT-L-14.pt", "b8cca3fd41ae0c99ba7e8951adf17d267cdb84cd88be6f7c2e0eca1737a03836"),
}
HUB_REPOS = {"ViT-B/16": "openai/clip-vit-base-patch16", "ViT-L/14": "openai/clip-vit-large-patch14"}
DROPPED_OPENAI = ("ln_post.weight", "ln_post.bias", "proj")  # EVL keeps neither the final norm nor the projection
_STORAGE_DTYPES = {"FloatStorage": torch.float32, "HalfStorage": torch.float16, "DoubleStorage": torch.float64,
                   "BFloat16Storage": torch.bfloat16, "LongStorage": torch.int64, "IntStorage": torch.int32,
                   "ShortStorage": torch.int16, "CharStorage": torch.int8, "ByteStorage": torch.uint8,
                   "BoolStorage": torch.bool}


def openai_url(arch: str) -> str:
    """Where OpenAI serves ``arch``'s file (its sha256 is the URL's folder)."""
    file, digest = OPENAI_FILES[arch]
    return OPENAI_URL.format(sha256=digest, file=file)


class ScriptObject:
    """An inert stand-in for a pickled TorchScript module: its attributes, nothing callable."""

    type_name = "?"

    def __setstate__(self, state: Any) -> None:
        self.attributes = dict(state) if isinstance(state, Mapping) else {}


def _rebuild_tensor(storage: torch.Tensor, offset: int, size, stride, *_ignored) -> torch.Tensor:
    return torch.as_strided(storage, tuple(size), tuple(stride), offset)


def _build_list(items):
    return list(items)


class _ArchiveUnpickler(pickle.Unpickler):
    """Rebuilds tensors and records module attributes; refuses every other global (no code from the file runs)."""

    def __init__(self, archive: zipfile.ZipFile, root: str, data: bytes):
        import io

        super().__init__(io.BytesIO(data))
        self.archive, self.root = archive, root

    def find_class(self, module: str, name: str):
        if module == "__torch__" or module.startswith("__torch__."):
            return type(name, (ScriptObject,), {"type_name": f"{module}.{name}"})
        if module == "torch" and name in _STORAGE_DTYPES:
            return _STORAGE_DTYPES[name]
        if (module, name) in (("torch._utils", "_rebuild_tensor_v2"), ("torch._utils", "_rebuild_tensor")):
            return _rebuild_tensor
        if module == "torch._utils" and name == "_rebuild_parameter":
            return lambda data, requires_grad, hooks: data
        if module == "collections" and name == "OrderedDict":
            return dict
        if module == "torch.jit._pickle" and name.startswith("build_") and name.endswith("list"):
            return _build_list
        raise pickle.UnpicklingError(f"refusing {module}.{name}: a TorchScript CLIP file pickles only modules and "
                                     "tensors")

    def persistent_load(self, pid):
        _, dtype, key, _location, numel = pid
        raw = bytearray(self.archive.read(f"{self.root}/data/{key}"))
        return torch.frombuffer(raw, dtype=dtype, count=numel) if numel else torch.empty(0, dtype=dtype)


def read_torchscript_tensors(path: str | Path) -> dict[str, torch.Tensor]:
    """Every tensor attribute of a TorchScript archive's module tree, by dotted name, without running the archive."""
    try:
        archive = zipfile.ZipFile(path)
    except zipfile.BadZipFile as err:
        raise CheckpointError(f"{path}: not a TorchScript archive (not a zip file): {err}") from err
    with archive:
        pickles = [n for n in archive.namelist() if n.endswith("/data.pkl") and n.count("/") == 1]
        if not pickles:
            raise CheckpointError(f"{path}: a zip without <root>/data.pkl: not a TorchScript archive")
        root = pickles[0].split("/")[0]
        tree = _ArchiveUnpickler(archive, root, archive.read(pickles[0])).load()
    tensors: dict[str, torch.Tensor] = {}
    _collect(tree, "", tensors)
    return tensors


def _collect(node: Any, prefix: str, out: dict[str, torch.Tensor]) -> None:
    for name, value in getattr(node, "attributes", {}).items():
        if isinstance(value, torch.Tensor):
            out[prefix + name] = value
        elif isinstance(value, ScriptObject):
            _collect(value, f"{prefix}{name}.", out)


def map_openai(visual: Mapping[str, torch.Tensor], source: str = "CLIP file") -> dict[str, torch.Tensor]:
    """OpenAI's ``visual.*`` state (without the ``visual.`` prefix) -> EVL backbone keys, cast to float32.

    ``conv1.weight [D, 3, p, p]`` flattens (C, pH, pW) into ``patch_embed.proj.weight`` with a zero bias; each
    block's ``attn.in_proj_*`` splits in three (q, k, v); ``ln_post`` and ``proj`` are dropped."""
    take = _Taker(visual, source)
    conv = take("conv1.weight")
    out = {"cls_token": take("class_embedding"), "pos_embed": take("positional_embedding"),
           "patch_embed.proj.weight": conv.flatten(1),
           "patch_embed.proj.bias": torch.zeros(conv.shape[0], device=conv.device),
           "ln_pre.weight": take("ln_pre.weight"), "ln_pre.bias": take("ln_pre.bias")}
    for i in range(_count_blocks(visual, "transformer.resblocks.")):
        src, dst = f"transformer.resblocks.{i}.", f"blocks.{i}."
        weight, bias = take(src + "attn.in_proj_weight"), take(src + "attn.in_proj_bias")
        for part, name in zip(range(3), ("q", "k", "v")):
            rows = slice(part * weight.shape[1], (part + 1) * weight.shape[1])
            out[f"{dst}attn.{name}_proj.weight"], out[f"{dst}attn.{name}_proj.bias"] = weight[rows], bias[rows]
        for theirs, ours in (("attn.out_proj", "attn.out_proj"), ("mlp.c_fc", "mlp.fc1"), ("mlp.c_proj", "mlp.fc2"),
                             ("ln_1", "norm1"), ("ln_2", "norm2")):
            for leaf in ("weight", "bias"):
                out[f"{dst}{ours}.{leaf}"] = take(f"{src}{theirs}.{leaf}")
    take.refuse_leftovers(DROPPED_OPENAI)
    return {k: v.float() for k, v in out.items()}


def map_transformers(state: Mapping[str, torch.Tensor], source: str = "CLIP file") -> dict[str, torch.Tensor]:
    """Hugging Face ``CLIPModel`` / ``CLIPVisionModel`` keys (``vision_model.*``) -> EVL backbone keys (float32)."""
    vision = {k[len("vision_model."):]: v for k, v in state.items() if k.startswith("vision_model.")}
    take = _Taker(vision, source, prefix="vision_model.")
    conv = take("embeddings.patch_embedding.weight")
    out = {"cls_token": take("embeddings.class_embedding"), "pos_embed": take("embeddings.position_embedding.weight"),
           "patch_embed.proj.weight": conv.flatten(1),
           "patch_embed.proj.bias": torch.zeros(conv.shape[0], device=conv.device),
           "ln_pre.weight": take("pre_layrnorm.weight"), "ln_pre.bias": take("pre_layrnorm.bias")}
    for i in range(_count_blocks(vision, "encoder.layers.")):
        src, dst = f"encoder.layers.{i}.", f"blocks.{i}."
        for theirs, ours in (("self_attn.q_proj", "attn.q_proj"), ("self_attn.k_proj", "attn.k_proj"),
                             ("self_attn.v_proj", "attn.v_proj"), ("self_attn.out_proj", "attn.out_proj"),
                             ("mlp.fc1", "mlp.fc1"), ("mlp.fc2", "mlp.fc2"), ("layer_norm1", "norm1"),
                             ("layer_norm2", "norm2")):
            for leaf in ("weight", "bias"):
                out[f"{dst}{ours}.{leaf}"] = take(f"{src}{theirs}.{leaf}")
    take.refuse_leftovers(("post_layernorm.weight", "post_layernorm.bias", "embeddings.position_ids"))
    return {k: v.float() for k, v in out.items()}


class _Taker:
    """Pops source keys, naming a missing one as the file spells it; leftovers other than the known drops fail."""

    def __init__(self, state: Mapping[str, torch.Tensor], source: str, prefix: str = ""):
        self.state, self.source, self.prefix, self.used = state, source, prefix, set()

    def __call__(self, key: str) -> torch.Tensor:
        if key not in self.state:
            raise CheckpointError(f"{self.source}: missing {self.prefix}{key}; not a CLIP image encoder of this layout")
        self.used.add(key)
        return self.state[key]

    def refuse_leftovers(self, dropped: tuple[str, ...]) -> None:
        left = sorted(k for k in self.state if k not in self.used and k not in dropped)
        if left:
            raise CheckpointError(f"{self.source}: {len(left)} keys the mapping does not know, e.g. "
                                  f"{[self.prefix + k for k in left[:5]]}")


def _count_blocks(state: Mapping[str, Any], prefix: str) -> int:
    indices = {int(k[len(prefix):].split(".")[0]) for k in state if k.startswith(prefix)}
    return max(indices) + 1 if indices else 0


def read_clip_backbone(uri: str | Path, arch: str | None = None) -> tuple[dict[str, torch.Tensor], list[str]]:
    """EVL backbone weights from an OpenAI TorchScript file (``*.pt``) or a transformers safetensors file (local or
    ``hf://openai/clip-vit-large-patch14/model.safetensors``), plus lines saying what was read. A file named as
    OpenAI's for ``arch`` must have the sha256 of its URL folder; another name is read and said not to be OpenAI's."""
    path = resolve(uri)
    digest = sha256_of(path)
    if path.suffix == ".safetensors":
        from safetensors.torch import load_file

        return map_transformers(load_file(path), str(uri)), [f"backbone: {uri} (transformers CLIP, sha256 {digest})"]
    provenance = "sha256 " + digest
    if arch in OPENAI_FILES:
        file, want = OPENAI_FILES[arch]
        if digest != want and path.name == file:  # OpenAI's name, other bytes: a damaged or partial download
            raise CheckpointError(f"{uri}: sha256 {digest}, but OpenAI's {file} ({arch}) has {want}; download it "
                                  f"again from {openai_url(arch)}")
        provenance += ", OpenAI's file" if digest == want else f", NOT OpenAI's {file} (sha256 {want})"
    tensors = read_torchscript_tensors(path)
    visual = {k[len("visual."):]: v for k, v in tensors.items() if k.startswith("visual.")}
    if not visual:
        raise CheckpointError(f"{uri}: a TorchScript archive without a 'visual' module: not an OpenAI CLIP file")
    return map_openai(visual, str(uri)), [f"backbone: {uri} (OpenAI CLIP TorchScript, read without running it; "
                                          f"{provenance})"]
