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
"""

from __future__ import annotations

import contextlib
import importlib
import importlib.util
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
