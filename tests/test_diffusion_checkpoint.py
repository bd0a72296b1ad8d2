"""Checkpoints: atomic round trip, exact resume, and clear errors for bad files."""

import pytest
import torch

from diffusion.checkpoint import CheckpointError, save_atomic
from diffusion.ddpm import ScheduleConfig
from diffusion.train import load_ddpm, load_ddpm_checkpoint, sample, train_ddpm
from diffusion.unet import UNetConfig

torch.set_num_threads(1)
TINY = UNetConfig(base_channels=8, channel_mult=(1, 2), time_dim=32, groups=4)
SCHED = ScheduleConfig(timesteps=20)
X = torch.rand(32, 1, 28, 28) * 2 - 1


def _train(path, steps, **kw):
    kw.setdefault("checkpoint_every", 2)
    return train_ddpm(path, steps, batch_size=4, model_config=TINY, schedule_config=SCHED, x_train=X,
                      progress=False, **kw)


@pytest.fixture(scope="module")
def finished(tmp_path_factory):
    path = tmp_path_factory.mktemp("ddpm") / "full.pt"
    _train(path, 4)
    return path


def test_round_trip(finished):
    ck = load_ddpm_checkpoint(finished)
    assert ck["step"] == 4 and ck["format_version"] == 1
    assert ck["model_config"] == TINY.to_dict() and ck["schedule"] == SCHED.to_dict()
    assert ck["optimizer_state"] is None  # final export is slim
    model, schedule, _ = load_ddpm(finished)
    assert schedule.T == 20
    for k, v in model.state_dict().items():
        assert torch.equal(v, ck["ema_state"][k])
    x = sample(finished, 2, seed=0, sampler="ddim", steps=3, progress=False)
    assert x.shape == (2, 1, 28, 28)
    assert not list(finished.parent.glob("*.tmp"))  # atomic write left no temp file


def test_resume_continues_from_saved_step_exactly(tmp_path, finished):
    path = tmp_path / "resumed.pt"
    _train(path, 4, max_new_steps=2)  # "killed" after 2 steps
    ck = load_ddpm_checkpoint(path)
    assert ck["step"] == 2 and ck["optimizer_state"] is not None
    n_log = len(ck["loss_log"])
    final = _train(path, 4)
    assert final["step"] == 4
    assert len(final["loss_log"]) > n_log
    uninterrupted = load_ddpm_checkpoint(finished)
    for k in uninterrupted["model_state"]:
        assert torch.equal(final["model_state"][k], uninterrupted["model_state"][k]), k
        assert torch.equal(final["ema_state"][k], uninterrupted["ema_state"][k]), k


def test_resume_with_other_settings_is_refused(tmp_path, finished):
    path = tmp_path / "c.pt"
    path.write_bytes(finished.read_bytes())
    with pytest.raises(CheckpointError, match=r"c\.pt.*cannot resume.*model_config"):
        train_ddpm(path, 6, batch_size=4, model_config=UNetConfig(base_channels=8, channel_mult=(1, 2), groups=4),
                   schedule_config=SCHED, x_train=X, progress=False)
    with pytest.raises(CheckpointError, match="train_config"):
        train_ddpm(path, 6, batch_size=8, model_config=TINY, schedule_config=SCHED, x_train=X, progress=False)


def test_missing_file(tmp_path):
    with pytest.raises(FileNotFoundError, match=r"nope\.pt: file not found"):
        load_ddpm(tmp_path / "nope.pt")


def _tampered(tmp_path, finished, edit):
    ck = torch.load(finished, weights_only=True)
    edit(ck)
    return save_atomic(ck, tmp_path / "bad.pt")


def test_wrong_version(tmp_path, finished):
    p = _tampered(tmp_path, finished, lambda c: c.update(format_version=99))
    with pytest.raises(CheckpointError, match=r"bad\.pt: format_version is 99"):
        load_ddpm(p)


def test_wrong_format(tmp_path, finished):
    p = _tampered(tmp_path, finished, lambda c: c.update(format="vcma-diffusion-classifier"))
    with pytest.raises(CheckpointError, match=r"bad\.pt: format is 'vcma-diffusion-classifier'"):
        load_ddpm(p)


def test_missing_key(tmp_path, finished):
    p = _tampered(tmp_path, finished, lambda c: c.pop("schedule"))
    with pytest.raises(CheckpointError, match=r"bad\.pt: missing keys \['schedule'\]"):
        load_ddpm(p)


def test_config_does_not_match_weights(tmp_path, finished):
    p = _tampered(tmp_path, finished, lambda c: c["model_config"].update(base_channels=16))
    with pytest.raises(CheckpointError, match=r"bad\.pt: EMA weights do not match"):
        load_ddpm(p)


def test_garbage_file(tmp_path):
    p = tmp_path / "junk.pt"
    p.write_bytes(b"not a checkpoint")
    with pytest.raises(CheckpointError, match=r"junk\.pt: cannot be read"):
        load_ddpm(p)


def test_classifier_loader_refuses_a_ddpm_checkpoint(finished, tmp_path):
    from diffusion.classifier import load_classifier

    expected = r"full\.pt: format is 'vcma-diffusion-ddpm', expected 'vcma-diffusion-classifier'"
    with pytest.raises(CheckpointError, match=expected):
        load_classifier(finished)
    with pytest.raises(FileNotFoundError, match=r"none\.pt: file not found"):
        load_classifier(tmp_path / "none.pt")
