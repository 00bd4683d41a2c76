"""Synchronised batch normalisation that also runs on CPU (gloo): torch's ``SyncBatchNorm`` refuses CPU tensors.

Training statistics are those of the whole global batch: per channel, the sum and count are all-reduced for the
mean, then the sum of squared deviations for the (biased) variance, two passes as ``F.batch_norm`` does; the
all-reduces are differentiable (``torch.distributed.nn``), so the gradients are the global batch's too. Evaluation
and a single process use the plain ``F.batch_norm``. Parameters and buffers keep BatchNorm's names: checkpoints
are unchanged.
"""

from __future__ import annotations

import torch
from torch import nn


class CpuSyncBatchNorm(nn.modules.batchnorm._BatchNorm):
    """BatchNorm over every process's batch (any device; gloo on CPU)."""

    def _check_input_dim(self, input: torch.Tensor) -> None:
        if input.dim() < 2:
            raise ValueError(f"expected at least 2D input (N, C, ...), found {input.dim()}D")

    def forward(self, input: torch.Tensor) -> torch.Tensor:
        import torch.distributed as dist

        self._check_input_dim(input)
        synced = self.training and dist.is_available() and dist.is_initialized() and dist.get_world_size() > 1
        if not synced:
            return super().forward(input)  # BatchNorm's own path
        from torch.distributed.nn.functional import all_reduce

        dims = [d for d in range(input.dim()) if d != 1]
        shape = [1, -1] + [1] * (input.dim() - 2)
        count = torch.tensor([input.numel() // input.shape[1]], dtype=input.dtype, device=input.device)
        totals = all_reduce(torch.cat([input.sum(dims), count]))
        n = totals[-1]
        mean = totals[:-1] / n
        centred = input - mean.reshape(shape)
        var = all_reduce(centred.pow(2).sum(dims)) / n  # biased, as the normalisation uses
        out = centred * torch.rsqrt(var + self.eps).reshape(shape)
        if self.affine:
            out = out * self.weight.reshape(shape) + self.bias.reshape(shape)
        if self.track_running_stats:
            with torch.no_grad():
                self.num_batches_tracked.add_(1)
                momentum = 1.0 / float(self.num_batches_tracked) if self.momentum is None else self.momentum
                self.running_mean.mul_(1 - momentum).add_(mean.detach() * momentum)
                unbiased = var.detach() * n / (n - 1).clamp(min=1)
                self.running_var.mul_(1 - momentum).add_(unbiased * momentum)
        return out


def convert_sync_batchnorm(module: nn.Module) -> nn.Module:
    """``module`` with every BatchNorm{1,2,3}d replaced by :class:`CpuSyncBatchNorm` (same parameters, buffers,
    names and mode)."""
    if isinstance(module, nn.modules.batchnorm._BatchNorm) and not isinstance(module, CpuSyncBatchNorm):
        out = CpuSyncBatchNorm(module.num_features, module.eps, module.momentum, module.affine,
                               module.track_running_stats)
        if module.affine:
            with torch.no_grad():
                out.weight = module.weight
                out.bias = module.bias
        out.running_mean, out.running_var = module.running_mean, module.running_var
        out.num_batches_tracked = module.num_batches_tracked
        out.train(module.training)
        return out
    for name, child in list(module.named_children()):
        setattr(module, name, convert_sync_batchnorm(child))
    return module
