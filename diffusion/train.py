"""Train the DDPM on MNIST, with atomic periodic checkpoints and resume; load and sample.

Entry points a CLI can call:

* ``train_ddpm(out, steps, ...)`` trains (or resumes) and writes ``out``.
* ``load_ddpm(path)`` returns ``(model, schedule, checkpoint_dict)``.
* ``sample(checkpoint, n, noise_source, seed, sampler="ddim", steps=...)``.

``python -m diffusion.train ddpm --out diffusion/checkpoints/ddpm_mnist.pt``
(and ``... classifier --out ...``) do the same from a shell.

Resume is exact: the checkpoint stores the weights, the EMA weights, the Adam
state and the training generator's state, and batches are drawn from that
generator, so a run stopped at step k and resumed gives the same weights as an
uninterrupted run. The final checkpoint drops the Adam state to keep the shipped
file small; resuming from it restarts Adam's moments (a warning says so).
"""

from __future__ import annotations

import argparse
import copy
import numbers
import os
import sys
import time
import warnings
from pathlib import Path

import torch
from tqdm.auto import tqdm

from .checkpoint import CheckpointError, load_checked, load_state_checked, save_atomic
from .data import DEFAULT_N_HELDOUT, DEFAULT_SPLIT_SEED, load_mnist
from .ddpm import Schedule, ScheduleConfig, TorchNoise, ddim_sample, ddpm_sample, diffusion_loss
from .unet import UNet, UNetConfig, count_parameters

DDPM_FORMAT = "vcma-diffusion-ddpm"
DDPM_FORMAT_VERSION = 1
DDPM_KEYS = (
    "model_config", "schedule", "split_seed", "n_heldout", "step", "train_config",
    "model_state", "ema_state", "optimizer_state", "generator_state", "elapsed_s", "loss_log",
)
DEFAULT_DDPM_PATH = Path(__file__).resolve().parent / "checkpoints" / "ddpm_mnist.pt"


def _ema_update(ema: torch.nn.Module, model: torch.nn.Module, decay: float) -> None:
    with torch.no_grad():
        for pe, pm in zip(ema.parameters(), model.parameters()):
            pe.mul_(decay).add_(pm, alpha=1 - decay)
        for be, bm in zip(ema.buffers(), model.buffers()):
            be.copy_(bm)


def _lr_at(step: int, lr: float, warmup: int) -> float:
    return lr * min(1.0, (step + 1) / max(warmup, 1))


def train_ddpm(
    out: str | os.PathLike = DEFAULT_DDPM_PATH,
    steps: int = 8000,
    batch_size: int = 64,
    lr: float = 5e-4,
    warmup: int = 200,
    ema_decay: float = 0.999,
    seed: int = 0,
    split_seed: int = DEFAULT_SPLIT_SEED,
    n_heldout: int = DEFAULT_N_HELDOUT,
    model_config: UNetConfig | None = None,
    schedule_config: ScheduleConfig | None = None,
    checkpoint_every: int = 500,
    resume: bool = True,
    num_threads: int | None = None,
    progress: bool = True,
    max_new_steps: int | None = None,
    x_train: torch.Tensor | None = None,
) -> dict:
    """Train the noise-prediction UNet for ``steps`` total steps; return the final checkpoint dict.

    If ``out`` exists and ``resume`` is true, training continues from its step
    (its model / schedule / split / training settings must equal the requested
    ones, else ``CheckpointError``). ``max_new_steps`` stops early after that
    many steps in this call (the checkpoint then holds the optimizer state for a
    later resume). ``x_train`` overrides the MNIST training split (tests).
    """
    if num_threads:
        torch.set_num_threads(num_threads)
    out = Path(out)
    mcfg = model_config or UNetConfig()
    scfg = schedule_config or ScheduleConfig()
    tcfg = {"batch_size": batch_size, "lr": lr, "warmup": warmup, "ema_decay": ema_decay, "seed": seed}

    if x_train is None:
        x_train = load_mnist(split_seed, n_heldout).x_train
    with torch.random.fork_rng(devices=[]):  # seeded init without touching the caller's global RNG
        torch.manual_seed(seed)
        model = UNet(mcfg)
    ema = copy.deepcopy(model)
    opt = torch.optim.Adam(model.parameters(), lr=lr)
    gen = torch.Generator().manual_seed(seed)
    step, elapsed, loss_log = 0, 0.0, []
    ident = _ddpm_identity(mcfg, scfg, split_seed, n_heldout, tcfg)
    if resume and out.exists():
        step, elapsed, loss_log = _resume(out, steps, model, ema, opt, gen, ident)

    schedule = Schedule(scfg)
    target = steps if max_new_steps is None else min(steps, step + max_new_steps)
    model.train()
    n_train = x_train.shape[0]
    bar = tqdm(total=steps, initial=step, desc="DDPM training", unit="step", disable=not progress,
               mininterval=1.0 if sys.stderr.isatty() else 30.0)
    run_loss, run_n = 0.0, 0
    t_last = time.perf_counter()
    while step < target:
        idx = torch.randint(0, n_train, (batch_size,), generator=gen)
        loss = _train_step(model, ema, opt, schedule, x_train[idx], gen, _lr_at(step, lr, warmup), ema_decay)
        step += 1
        run_loss += loss
        run_n += 1
        bar.update(1)
        if step % 100 == 0 or step % checkpoint_every == 0 or step == target:
            loss_log.append((step, run_loss / run_n))
            bar.set_postfix(loss=f"{run_loss / run_n:.4f}")
            run_loss, run_n = 0.0, 0
        if step % checkpoint_every == 0 or step == target:
            now = time.perf_counter()
            elapsed += now - t_last
            t_last = now
            save_atomic(_ddpm_checkpoint(model, ema, opt, gen, ident, step, elapsed, loss_log, step >= steps), out)
            if not sys.stderr.isatty() or not progress:
                print(f"step {step}/{steps} loss {loss_log[-1][1]:.4f} elapsed {elapsed:.0f}s -> {out}",
                      file=sys.stderr, flush=True)
    bar.close()
    return _ddpm_checkpoint(model, ema, opt, gen, ident, step, elapsed, loss_log, step >= steps)



def _ddpm_identity(mcfg: UNetConfig, scfg: ScheduleConfig, split_seed: int, n_heldout: int, tcfg: dict) -> dict:
    """The checkpoint entries a resumed run must match (model, schedule, data split, training settings)."""
    return {"model_config": mcfg.to_dict(), "schedule": scfg.to_dict(), "split_seed": split_seed,
            "n_heldout": n_heldout, "train_config": tcfg}


def _resume(out: Path, steps: int, model, ema, opt, gen: torch.Generator, ident: dict) -> tuple[int, float, list]:
    """Load ``out`` into model, EMA, optimizer and generator; its settings must equal ``ident``."""
    ckpt = load_ddpm_checkpoint(out)
    problems = []
    if ckpt["model_config"] != ident["model_config"]:
        problems.append(f"model_config {ckpt['model_config']} != requested {ident['model_config']}")
    if ckpt["schedule"] != ident["schedule"]:
        problems.append(f"schedule {ckpt['schedule']} != requested {ident['schedule']}")
    split_seed, n_heldout = ident["split_seed"], ident["n_heldout"]
    if (ckpt["split_seed"], ckpt["n_heldout"]) != (split_seed, n_heldout):
        found = (ckpt["split_seed"], ckpt["n_heldout"])
        problems.append(f"data split (seed, n_heldout) {found} != {(split_seed, n_heldout)}")
    if ckpt["train_config"] != ident["train_config"]:
        problems.append(f"train_config {ckpt['train_config']} != requested {ident['train_config']}")
    if problems:
        raise CheckpointError(f"checkpoint {out}: cannot resume, " + "; ".join(problems) +
                              " (pass resume=False / --no-resume or a new --out to start over)")
    load_state_checked(model, ckpt["model_state"], out, "model")
    load_state_checked(ema, ckpt["ema_state"], out, "EMA")
    if ckpt["optimizer_state"] is not None:
        opt.load_state_dict(ckpt["optimizer_state"])
    elif ckpt["step"] < steps:
        warnings.warn(f"checkpoint {out} has no optimizer state (final export); "
                      f"Adam restarts at step {ckpt['step']}")
    gen.set_state(ckpt["generator_state"])
    step = ckpt["step"]
    print(f"resuming {out} at step {step}/{steps}", file=sys.stderr)
    return step, ckpt["elapsed_s"], list(ckpt["loss_log"])


def _train_step(model, ema, opt, schedule, x_batch: torch.Tensor, gen: torch.Generator, lr_now: float,
                ema_decay: float) -> float:
    """One Adam step on the noise-prediction loss (gradient clipped at 1), then the EMA update; returns the loss."""
    for g in opt.param_groups:
        g["lr"] = lr_now
    loss = diffusion_loss(model, schedule, x_batch, generator=gen)
    opt.zero_grad(set_to_none=True)
    loss.backward()
    torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
    opt.step()
    _ema_update(ema, model, ema_decay)
    return loss.item()


def _ddpm_checkpoint(model, ema, opt, gen: torch.Generator, ident: dict, step: int, elapsed: float, loss_log: list,
                     final: bool) -> dict:
    """The checkpoint dict (a final export carries no optimizer state)."""
    return {
        "format": DDPM_FORMAT, "format_version": DDPM_FORMAT_VERSION,
        "model_config": ident["model_config"], "schedule": ident["schedule"],
        "split_seed": ident["split_seed"], "n_heldout": ident["n_heldout"], "step": step,
        "train_config": ident["train_config"],
        "model_state": model.state_dict(), "ema_state": ema.state_dict(),
        "optimizer_state": None if final else opt.state_dict(),
        "generator_state": gen.get_state(), "elapsed_s": elapsed, "loss_log": loss_log,
        "n_parameters": count_parameters(model), "torch_version": str(torch.__version__),
    }

def load_ddpm_checkpoint(path: str | os.PathLike) -> dict:
    """Read and validate a DDPM checkpoint dict (no network built)."""
    return load_checked(path, DDPM_FORMAT, DDPM_FORMAT_VERSION, DDPM_KEYS)


def load_ddpm(path: str | os.PathLike = DEFAULT_DDPM_PATH, use_ema: bool = True) -> tuple[UNet, Schedule, dict]:
    """Build the UNet and schedule from a checkpoint; EMA weights by default."""
    ckpt = load_ddpm_checkpoint(path)
    try:
        mcfg = UNetConfig.from_dict(ckpt["model_config"])
        scfg = ScheduleConfig.from_dict(ckpt["schedule"])
        model = UNet(mcfg)
        schedule = Schedule(scfg)
    except (TypeError, ValueError, KeyError) as exc:
        raise CheckpointError(f"checkpoint {path}: bad model or schedule config ({exc})") from exc
    load_state_checked(model, ckpt["ema_state" if use_ema else "model_state"], path, "EMA" if use_ema else "model")
    model.eval()
    return model, schedule, ckpt


def sample(
    checkpoint: str | os.PathLike | tuple = DEFAULT_DDPM_PATH,
    n: int = 64,
    noise_source=None,
    seed: int = 0,
    sampler: str = "ddim",
    steps: int | None = None,
    eta: float = 0.0,
    batch_size: int = 256,
    progress: bool = True,
    device: str | torch.device = "cpu",
) -> torch.Tensor:
    """Generate ``n`` images in [-1, 1], shape (n, 1, 28, 28), returned on the CPU.

    ``checkpoint`` is a path or an already loaded ``(model, schedule, ...)``
    tuple. ``sampler="ddpm"`` is ancestral over all T steps (``steps`` must be
    None or T); ``"ddim"`` uses ``steps`` strided steps (default 50) and ``eta``.
    Every random draw comes from ``noise_source`` (default ``torch.randn``),
    fed a CPU ``torch.Generator`` seeded with ``seed``, so a seed gives the same
    noise on any device. The model runs on ``device`` (``cpu``, ``cuda``,
    ``cuda:N``; a loaded model is moved there) and the noise is moved to it.
    """
    if isinstance(n, bool) or not isinstance(n, numbers.Integral) or n < 1:
        raise ValueError(f"number of images n must be a positive integer, got {n!r}")
    device = sampling_device(device)
    if isinstance(checkpoint, tuple):
        model, schedule = checkpoint[0], checkpoint[1]
    else:
        model, schedule, _ = load_ddpm(checkpoint)
    model.to(device)
    ns = noise_source if noise_source is not None else TorchNoise()
    gen = torch.Generator().manual_seed(seed)
    if sampler == "ddpm":
        if steps not in (None, schedule.T):
            raise ValueError(f"ancestral DDPM runs all {schedule.T} steps; got steps={steps} (use sampler='ddim')")
        return ddpm_sample(model, schedule, n, ns, gen, batch_size=batch_size, progress=progress).cpu()
    if sampler == "ddim":
        return ddim_sample(model, schedule, n, ns, gen, steps=steps or 50, eta=eta, batch_size=batch_size,
                           progress=progress).cpu()
    raise ValueError(f"unknown sampler {sampler!r} (use 'ddpm' or 'ddim')")


def sampling_device(device: str | torch.device) -> torch.device:
    """``device`` as a torch device this machine has (``cpu``, ``cuda``, ``cuda:N``); else one clear ValueError.

    (``cosim.noise.sources.torch_device`` applies the same rule on the command line; ``diffusion`` imports
    nothing from ``cosim``.)"""
    try:
        dev = torch.device(device)
    except (RuntimeError, TypeError, ValueError):
        raise ValueError(f"device {device}: unknown device (use cpu, cuda or cuda:N)") from None
    if dev.type not in ("cpu", "cuda"):
        raise ValueError(f"device {device}: unsupported device type '{dev.type}' (use cpu, cuda or cuda:N)")
    if dev.type == "cuda" and not torch.cuda.is_available():
        raise ValueError(f"device {device}: no CUDA device on this machine (torch.cuda.is_available() is False)")
    if dev.type == "cuda" and dev.index is not None and dev.index >= torch.cuda.device_count():
        raise ValueError(f"device {device}: no such CUDA device; this machine has {torch.cuda.device_count()}")
    return dev


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m diffusion.train", description=__doc__.split("\n")[0])
    sub = p.add_subparsers(dest="what", required=True)
    d = sub.add_parser("ddpm", help="train / resume the DDPM")
    d.add_argument("--out", default=str(DEFAULT_DDPM_PATH))
    d.add_argument("--steps", type=int, default=8000)
    d.add_argument("--batch-size", type=int, default=64)
    d.add_argument("--lr", type=float, default=5e-4)
    d.add_argument("--base-channels", type=int, default=UNetConfig.base_channels)
    d.add_argument("--schedule", choices=["linear", "cosine"], default="linear")
    d.add_argument("--seed", type=int, default=0)
    d.add_argument("--split-seed", type=int, default=DEFAULT_SPLIT_SEED)
    d.add_argument("--checkpoint-every", type=int, default=500)
    d.add_argument("--threads", type=int, default=2)
    d.add_argument("--no-resume", action="store_true")
    c = sub.add_parser("classifier", help="train the MNIST classifier used for checks and FID features")
    c.add_argument("--out", default=None)
    c.add_argument("--epochs", type=int, default=None)
    c.add_argument("--seed", type=int, default=0)
    c.add_argument("--split-seed", type=int, default=DEFAULT_SPLIT_SEED)
    c.add_argument("--threads", type=int, default=2)
    a = p.parse_args(argv)
    if a.what == "ddpm":
        t0 = time.perf_counter()
        ck = train_ddpm(a.out, a.steps, batch_size=a.batch_size, lr=a.lr, seed=a.seed, split_seed=a.split_seed,
                        model_config=UNetConfig(base_channels=a.base_channels),
                        schedule_config=ScheduleConfig(kind=a.schedule), checkpoint_every=a.checkpoint_every,
                        resume=not a.no_resume, num_threads=a.threads)
        print(f"done: step {ck['step']}, {ck['n_parameters']} parameters, training time {ck['elapsed_s']:.0f}s "
              f"(this call {time.perf_counter() - t0:.0f}s) -> {a.out}")
    else:
        from .classifier import DEFAULT_CLASSIFIER_PATH, train_classifier

        kw = {} if a.epochs is None else {"epochs": a.epochs}
        ck = train_classifier(a.out or DEFAULT_CLASSIFIER_PATH, seed=a.seed, split_seed=a.split_seed,
                              num_threads=a.threads, **kw)
        print(f"done: held-out accuracy {ck['heldout_accuracy']:.4f}, training time {ck['elapsed_s']:.0f}s")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
