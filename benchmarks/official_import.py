"""Import and build the official CSLR code (CorrNet, VAC) from a checkout, on a machine without its extras.

Used by ``official_parity.py`` and ``bench_cslr_forward.py``. Nothing of the official code is copied: its
``slr_network``, ``modules``, ``utils`` and ``dataset/dataloader_video.py`` are imported from the checkout given
on the command line. What cannot be installed here is stood in for while they are imported and built:

- ``ctcdecode`` (a CUDA-era C++ extension): a class that refuses to decode; decoding is done by ``bench.decoding``;
- ``torchvision.models`` (VAC's backbone): :class:`TorchvisionResNet18`, torchvision's resnet18 architecture and
  key names, written here because torchvision is not installable (the real one is used where it is);
- ``torch.utils.model_zoo.load_url`` (CorrNet's ImageNet download): a randomly initialised torchvision-layout
  state dict, which the official ``resnet18()`` reshapes and loads as it would the real file;
- ``cv2`` and ``matplotlib.pyplot`` (imported, not used, by the official data loader), where missing.

The two checkouts both have top-level ``utils``, ``modules`` and ``slr_network``: each import runs with only its
own checkout on ``sys.path`` and leaves ``sys.modules`` as it found it.

SlowFastSign (``official_parity_slowfastsign.py``, ``bench_slowfastsign.py``) additionally needs fvcore's
``CfgNode`` and ``torchvision.transforms.functional`` stood in for, and is built from inside its checkout.

NLA-SLR (``official_parity_nla_slr.py``, ``bench_nla_slr.py``; the ``NLA-SLR`` folder of an SLRT checkout) needs
``torchvision.transforms``' eval-path resize and ``torch.utils.tensorboard`` stood in for, and its Kinetics-400
S3D file skipped (every weight is replaced by ours).
"""

from __future__ import annotations

import contextlib
import importlib
import importlib.util
import io
import os
import sys
import types
from pathlib import Path
from typing import Callable, Iterator

import torch
import torch.nn as nn
import torch.utils.model_zoo

LAYOUT = ("K5", "P2", "K5", "P2")  # conv_type=2, the temporal layout of every released VAC/CorrNet model
LOSS_WEIGHTS = {"SeqCTC": 1.0, "ConvCTC": 1.0, "Dist": 25.0}
_OFFICIAL_TOP_LEVEL = ("slr_network", "utils", "modules", "dataloader_video")  # names both checkouts use


class TorchvisionResNet18(nn.Module):
    """torchvision's ``resnet18`` (BasicBlock, [2, 2, 2, 2]): same modules, key names and forward, no weights."""

    def __init__(self, num_classes: int = 1000):
        super().__init__()
        self.conv1 = nn.Conv2d(3, 64, kernel_size=7, stride=2, padding=3, bias=False)
        self.bn1 = nn.BatchNorm2d(64)
        self.relu = nn.ReLU(inplace=True)
        self.maxpool = nn.MaxPool2d(kernel_size=3, stride=2, padding=1)
        self.layer1 = _stage(64, 64, 1)
        self.layer2 = _stage(64, 128, 2)
        self.layer3 = _stage(128, 256, 2)
        self.layer4 = _stage(256, 512, 2)
        self.avgpool = nn.AdaptiveAvgPool2d((1, 1))
        self.fc = nn.Linear(512, num_classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.maxpool(self.relu(self.bn1(self.conv1(x))))
        x = self.layer4(self.layer3(self.layer2(self.layer1(x))))
        return self.fc(torch.flatten(self.avgpool(x), 1))


class _TorchvisionBlock(nn.Module):
    def __init__(self, inplanes: int, planes: int, stride: int):
        super().__init__()
        self.conv1 = nn.Conv2d(inplanes, planes, 3, stride, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(planes)
        self.relu = nn.ReLU(inplace=True)
        self.conv2 = nn.Conv2d(planes, planes, 3, 1, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(planes)
        self.downsample = None
        if stride != 1 or inplanes != planes:
            self.downsample = nn.Sequential(nn.Conv2d(inplanes, planes, 1, stride, bias=False), nn.BatchNorm2d(planes))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        identity = x if self.downsample is None else self.downsample(x)
        out = self.relu(self.bn1(self.conv1(x)))
        out = self.bn2(self.conv2(out))
        return self.relu(out + identity)


def _stage(inplanes: int, planes: int, stride: int) -> nn.Sequential:
    return nn.Sequential(_TorchvisionBlock(inplanes, planes, stride), _TorchvisionBlock(planes, planes, 1))


class _CTCBeamDecoderStandIn:
    """``ctcdecode.CTCBeamDecoder`` for construction only: the harness decodes with ``bench.decoding``."""

    def __init__(self, *args, **kwargs):
        self.args, self.kwargs = args, kwargs

    def decode(self, *args, **kwargs):
        raise RuntimeError("ctcdecode is stood in for by benchmarks/official_import.py; decode with bench.decoding")


class _NoDecoder:
    """Replaces the official model's ``decoder``: its eval-mode forward calls ``decode``; we decode ourselves."""

    def decode(self, *args, **kwargs):
        return None


def _module(name: str, **attrs) -> types.ModuleType:
    module = types.ModuleType(name)
    module.__dict__.update(attrs)
    return module


def _torchvision_models() -> types.ModuleType:
    """``torchvision.models`` with a ``resnet18(pretrained=...)`` that never downloads (``pretrained`` is ignored)."""
    if importlib.util.find_spec("torchvision") is not None:
        import torchvision.models as real

        return _module("torchvision.models", resnet18=lambda pretrained=False, **kwargs: real.resnet18(**kwargs))
    return _module("torchvision.models", resnet18=lambda pretrained=False, **kwargs: TorchvisionResNet18(**kwargs))


def _stand_ins() -> dict[str, types.ModuleType]:
    """Modules to put in ``sys.modules`` while the official code is imported."""
    models = _torchvision_models()
    modules = {"torchvision": _module("torchvision", models=models), "torchvision.models": models}
    if importlib.util.find_spec("ctcdecode") is None:
        modules["ctcdecode"] = _module("ctcdecode", CTCBeamDecoder=_CTCBeamDecoderStandIn)
    if importlib.util.find_spec("cv2") is None:
        modules["cv2"] = _module("cv2")
    if importlib.util.find_spec("matplotlib") is None:
        pyplot = _module("matplotlib.pyplot")
        modules.update({"matplotlib": _module("matplotlib", pyplot=pyplot), "matplotlib.pyplot": pyplot})
    return modules


def _imagenet_stand_in(url: str, *args, **kwargs) -> dict[str, torch.Tensor]:
    """What ``model_zoo.load_url`` would return for torchvision's resnet18 file, with random weights."""
    return TorchvisionResNet18().state_dict()


@contextlib.contextmanager
def official_imports(repo: Path) -> Iterator[None]:
    """Make ``repo``'s top-level modules importable (stand-ins included); restore everything afterwards."""
    repo = Path(repo).resolve()
    if not (repo / "slr_network.py").is_file():
        raise FileNotFoundError(f"{repo}/slr_network.py not found: pass the root of a CorrNet or VAC_CSLR checkout")
    stand_ins = _stand_ins()
    shadowed = set(_OFFICIAL_TOP_LEVEL) | {name.split(".")[0] for name in stand_ins}
    saved = {name: module for name, module in sys.modules.items() if name.split(".")[0] in shadowed}
    for name in saved:
        del sys.modules[name]
    sys.modules.update(stand_ins)
    sys.path.insert(0, str(repo))
    load_url = torch.utils.model_zoo.load_url
    torch.utils.model_zoo.load_url = _imagenet_stand_in
    try:
        yield
    finally:
        torch.utils.model_zoo.load_url = load_url
        sys.path.remove(str(repo))
        for name in [n for n in sys.modules if n.split(".")[0] in shadowed]:
            del sys.modules[name]
        sys.modules.update(saved)


def official_model(repo: Path, num_classes: int, **kwargs) -> nn.Module:
    """The official ``SLRModel`` as its ``main.py`` builds it for the released models, decoder disabled.

    ``kwargs`` go to ``SLRModel`` (``weight_norm``, ``share_classifier``). The gloss dict only names classes
    for the official decoder, which is not used: a synthetic one of the right size is passed.
    """
    gloss_dict = {f"GLOSS{i:04d}": [i, 1] for i in range(1, num_classes)}
    with official_imports(repo):
        slr_network = importlib.import_module("slr_network")
        model = slr_network.SLRModel(num_classes=num_classes, c2d_type="resnet18", conv_type=2, use_bn=1,
                                     gloss_dict=gloss_dict, loss_weights=dict(LOSS_WEIGHTS), **kwargs)
    model.decoder = _NoDecoder()
    return model


class _NoCorrelation(nn.Module):
    """``corr1`` of the CSL-Daily variant: absent; contributes exactly zero to ``x + corr1(x) * alpha[0]``."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.zeros_like(x)


def _forward_without_corr1(self, x: torch.Tensor) -> torch.Tensor:
    # The official forward reads alpha[0..2]; the README's edit gives corr2 alpha[0] and corr3 alpha[1]: run the
    # official forward with alpha seen as [0, alpha[0], alpha[1]] and corr1 contributing zero.
    alpha = self._parameters.pop("alpha")
    self.__dict__["alpha"] = torch.cat([alpha.new_zeros(1), alpha])
    try:
        return type(self).__mro__[1].forward(self, x)
    finally:
        del self.__dict__["alpha"]
        self._parameters["alpha"] = alpha


def remove_first_correlation(model: nn.Module) -> nn.Module:
    """The CorrNet README's CSL-Daily edit of ``modules/resnet.py``, applied to a built model at run time.

    README: "remove the CorrNet block after layer2 ... change the num from 3 to 2 [alpha] ... change
    self.alpha[1] & self.alpha[2] to self.alpha[0] & self.alpha[1]". The official forward still runs.
    """
    backbone = model.conv2d
    backbone.corr1 = _NoCorrelation()
    backbone.alpha = nn.Parameter(torch.zeros(2))
    backbone.__class__ = type("ResNetWithoutCorr1", (type(backbone),), {"forward": _forward_without_corr1})
    return model


def official_state_dict(state_dict: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    """The official loader's key rule (``k.replace('.module', '')``); a no-op on our keys."""
    return {key.replace(".module", ""): value for key, value in state_dict.items()}


def official_collate(repo: Path) -> Callable:
    """``BaseFeeder.collate_fn`` of the checkout's ``dataset/dataloader_video.py`` (temporal layout K5 P2 K5 P2)."""
    repo = Path(repo).resolve()
    with official_imports(repo):
        spec = importlib.util.spec_from_file_location("dataloader_video", repo / "dataset" / "dataloader_video.py")
        loader = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(loader)
    loader.kernel_sizes = list(LAYOUT)  # CorrNet's collate reads this global, set by BaseFeeder.__init__
    return loader.BaseFeeder.collate_fn


# --- SlowFastSign (github.com/kaistmm/SlowFastSign) -------------------------------------------------------------
# Its ``slr_network_multi`` builds PySlowFast's SlowFast from ``slowfast_modules/configs/*.yaml`` (paths relative
# to the checkout) through fvcore's ``CfgNode``; ``slowfast.py`` imports torchvision's ``rgb_to_grayscale`` (unused).
SLOWFASTSIGN_CONFIG = "SLOWFAST_64x2_R101_50_50.yaml"  # configs/baseline.yaml: slowfast_config
_SLOWFASTSIGN_TOP_LEVEL = ("slr_network_multi", "slowfast_modules", "seq_scripts", "fvcore")


class _CfgNode(dict):
    """fvcore's ``CfgNode`` as the official code uses it: a nested dict read by attribute, nothing merged."""

    def __init__(self, init: dict | None = None, **kwargs):
        super().__init__()
        for key, value in dict(init or {}, **kwargs).items():
            self[key] = _CfgNode(value) if isinstance(value, dict) else value

    def __getattr__(self, name: str):
        try:
            return self[name]
        except KeyError as err:
            raise AttributeError(name) from err

    def merge_from_list(self, items: list) -> None:
        if items:
            raise NotImplementedError("the stand-in CfgNode merges nothing; the released runs pass no slowfast_args")


def _slowfastsign_stand_ins() -> dict[str, types.ModuleType]:
    """fvcore's config module and ``torchvision.transforms.functional``, where they are missing."""
    modules: dict[str, types.ModuleType] = {}
    if importlib.util.find_spec("fvcore") is None:
        config = _module("fvcore.common.config", CfgNode=_CfgNode)
        common = _module("fvcore.common", config=config)
        modules.update({"fvcore": _module("fvcore", common=common), "fvcore.common": common,
                        "fvcore.common.config": config})
    if importlib.util.find_spec("torchvision") is None:
        def _unused(*args, **kwargs):
            raise RuntimeError("torchvision is stood in for by benchmarks/official_import.py")

        functional = _module("torchvision.transforms.functional", rgb_to_grayscale=_unused)
        modules.update({"torchvision.transforms": _module("torchvision.transforms", functional=functional),
                        "torchvision.transforms.functional": functional})
    return modules


@contextlib.contextmanager
def slowfastsign_imports(repo: Path) -> Iterator[None]:
    """:func:`official_imports` for a SlowFastSign checkout, run from inside it; everything restored afterwards."""
    repo = Path(repo).resolve()
    if not (repo / "slr_network_multi.py").is_file():
        raise FileNotFoundError(f"{repo}/slr_network_multi.py not found: pass the root of a SlowFastSign checkout")
    stand_ins = _slowfastsign_stand_ins()
    shadowed = set(_SLOWFASTSIGN_TOP_LEVEL)
    saved = {name: module for name, module in sys.modules.items() if name.split(".")[0] in shadowed}
    cwd = Path.cwd()
    with official_imports(repo):
        path = list(sys.path)  # with the checkout in front, as official_imports leaves it
        for name in saved:
            del sys.modules[name]
        sys.modules.update(stand_ins)
        if "torchvision.transforms" in stand_ins:
            sys.modules["torchvision"].transforms = stand_ins["torchvision.transforms"]
        os.chdir(repo)  # slowfast101() opens 'slowfast_modules/configs/<config>' relative to the working directory
        try:
            yield
        finally:
            os.chdir(cwd)
            sys.path[:] = path  # slowfast_modules and the data loader append to sys.path on import
            for name in [n for n in sys.modules if n.split(".")[0] in shadowed]:
                del sys.modules[name]
            sys.modules.update(saved)


def official_slowfastsign_model(repo: Path, num_classes: int) -> nn.Module:
    """The official SlowFastSign ``SLRModel`` as ``main.py`` builds it from ``configs/baseline.yaml``, decoder
    disabled, SlowFast weights not loaded from ``ckpt/*.pkl`` (``load_pkl=False``, as when loading a checkpoint)."""
    gloss_dict = {f"GLOSS{i:04d}": [i, 1] for i in range(1, num_classes)}
    with slowfastsign_imports(repo):
        network = importlib.import_module("slr_network_multi")
        with contextlib.redirect_stdout(io.StringIO()):  # "Use Bidirectional Add Fusion."
            model = network.SLRModel(num_classes=num_classes, c2d_type="slowfast101", conv_type=2, load_pkl=False,
                                     slowfast_config=SLOWFASTSIGN_CONFIG, slowfast_args=[], use_bn=1,
                                     gloss_dict=gloss_dict, loss_weights={**LOSS_WEIGHTS, "Slow": 0.25, "Fast": 0.25},
                                     weight_norm=True, share_classifier=1)
    model.decoder = _NoDecoder()
    return model


def official_slowfast_checkpoint_loader(repo: Path) -> Callable:
    """PySlowFast's ``load_checkpoint(path, model)`` from the checkout (the Caffe2-pickle loader SlowFastSign uses)."""
    with slowfastsign_imports(repo):
        return importlib.import_module("slowfast_modules.checkpoint").load_checkpoint


# --- NLA-SLR (github.com/FangyunWei/SLRT, NLA-SLR/) -----------------------------------------------------------------
# Its ``modelling``, ``utils`` and ``dataset`` packages are imported from the checkout. Stood in for while they are
# imported: ``torchvision`` (only ``transforms.Resize``/``CenterCrop``/``Compose`` of the eval path, as torchvision
# 0.10 resizes tensors: bilinear, align_corners=False, no antialiasing; the training augmentations refuse) and
# ``torch.utils.tensorboard`` where tensorboard is missing (``utils/misc.py`` imports SummaryWriter, unused here).

_NLA_SLR_TOP_LEVEL = ("modelling", "utils", "dataset", "torchvision")
_TENSORBOARD = "torch.utils.tensorboard"


def _resize_tensor(x: torch.Tensor, size) -> torch.Tensor:
    """torchvision 0.10's ``F.resize`` of a float tensor ``[..., H, W]`` to ``size`` (h, w): no antialiasing."""
    size = [size, size] if isinstance(size, int) else list(size)
    flat = x.reshape(-1, *x.shape[-3:]) if x.ndim != 4 else x
    out = torch.nn.functional.interpolate(flat, size=size, mode="bilinear", align_corners=False)
    return out.reshape(*x.shape[:-2], *size)


def _center_crop(x: torch.Tensor, size) -> torch.Tensor:
    h, w = (size, size) if isinstance(size, int) else size
    top, left = int(round((x.shape[-2] - h) / 2.0)), int(round((x.shape[-1] - w) / 2.0))
    return x[..., top:top + h, left:left + w]


class _Refuse:
    """A training augmentation of ``torchvision.transforms``: the parity harness runs the eval path only."""

    def __init__(self, *args, **kwargs):
        raise RuntimeError("torchvision training transforms are not stood in for (eval path only)")


def _torchvision_transforms() -> dict[str, types.ModuleType]:
    functional = _module("torchvision.transforms.functional", resize=_resize_tensor, center_crop=_center_crop)
    transforms = _module(
        "torchvision.transforms", functional=functional,
        Resize=lambda size: (lambda x: _resize_tensor(x, size)),
        CenterCrop=lambda size: (lambda x: _center_crop(x, size)),
        Compose=lambda ops: (lambda x: [x := op(x) for op in ops][-1] if ops else x),
        ColorJitter=_Refuse, GaussianBlur=_Refuse, RandAugment=_Refuse, RandomResizedCrop=_Refuse, RandomCrop=_Refuse)
    return {"torchvision": _module("torchvision", transforms=transforms), "torchvision.transforms": transforms,
            "torchvision.transforms.functional": functional}


def _nla_slr_stand_ins() -> dict[str, types.ModuleType]:
    modules = _torchvision_transforms()
    if importlib.util.find_spec("tensorboard") is None:
        modules[_TENSORBOARD] = _module(_TENSORBOARD, SummaryWriter=type("SummaryWriter", (), {}))
    return modules


@contextlib.contextmanager
def nla_slr_imports(repo: Path) -> Iterator[None]:
    """Make the NLA-SLR checkout's packages importable (stand-ins included); restore ``sys.modules`` afterwards."""
    repo = Path(repo).resolve()
    if not (repo / "modelling" / "recognition.py").is_file():
        raise FileNotFoundError(f"{repo}/modelling/recognition.py not found: pass the NLA-SLR folder of an SLRT "
                                "checkout")
    stand_ins = _nla_slr_stand_ins()

    def ours(name: str) -> bool:
        return name.split(".")[0] in _NLA_SLR_TOP_LEVEL or name == _TENSORBOARD

    saved = {name: module for name, module in sys.modules.items() if ours(name)}
    for name in saved:
        del sys.modules[name]
    sys.modules.update(stand_ins)
    sys.path.insert(0, str(repo))
    try:
        yield
    finally:
        sys.path.remove(str(repo))
        for name in [n for n in sys.modules if ours(n)]:
            del sys.modules[name]
        sys.modules.update(saved)


def nla_slr_config(repo: Path, config: str) -> dict:
    """``configs/<config>.yaml`` read by the official ``load_config`` (which sets the keypoint channel count),
    made buildable offline: S3D backbones from scratch, no pretrained stages, device CPU."""
    repo = Path(repo).resolve()
    with nla_slr_imports(repo):
        misc = importlib.import_module("utils.misc")
        cfg = misc.load_config(str(repo / "configs" / f"{config}.yaml"))
    network = cfg["model"]["RecognitionNetwork"]
    for stream in ("s3d", "keypoint_s3d"):
        network[stream]["pretrained_ckpt"] = "scratch"  # the Kinetics-400 file is not needed: weights come from us
    for key in ("pretrained_path_rgb", "pretrained_path_keypoint", "pretrained_path_two"):
        network.pop(key, None)
    cfg["training"].pop("load_ckpt", None)
    cfg["device"] = "cpu"
    return cfg


def official_nla_slr_model(repo: Path, config: str, num_classes: int,
                           word_emb_tab: torch.Tensor | None = None) -> nn.Module:
    """The official ``SignLanguageModel`` (``modelling/model.py``) built from ``configs/<config>.yaml`` as
    ``training.py``/``prediction.py`` build it (without the Kinetics-400 file and the earlier stages' checkpoints,
    and without ``SyncBatchNorm``, which computes as ``BatchNorm`` in eval mode); its state dict has the
    checkpoints' ``recognition_network.`` keys.

    ``word_emb_tab`` ``[num_classes, 300]`` stands for the gloss vectors the dataset would read (language configs).
    """
    import logging

    repo = Path(repo).resolve()
    cfg = nla_slr_config(repo, config)
    with nla_slr_imports(repo):
        misc = importlib.import_module("utils.misc")
        misc.logger = logging.getLogger("official-nla-slr")  # get_logger() reads a global make_logger() would set
        s3d = importlib.import_module("modelling.S3D")
        model_module = importlib.import_module("modelling.model")
        # the two- and four-stream code builds S3D_backbone with its default Kinetics-400 path, which the config
        # cannot change: skip that load (every weight is replaced by the caller's state dict afterwards)
        s3d.S3D_backbone.load_s3d_model_weight = lambda self, path: None
        model = model_module.build_model(cfg, num_classes, word_emb_tab=word_emb_tab)
    return model


def official_nla_slr_function(repo: Path, module: str, name: str) -> Callable:
    """A function of the checkout (e.g. ``utils.gen_gaussian``, ``gen_gaussian_hmap_op``), imported in isolation."""
    with nla_slr_imports(repo):
        return getattr(importlib.import_module(module), name)
