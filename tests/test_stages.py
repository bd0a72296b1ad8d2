"""A main job that talks (issue #15, item 6): stage lines with times on stdout, progress on stderr,
``--quiet``; the demo's first stage line comes before any checkpoint is read."""

import io
import re
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))
from diffusion_fixture import synthetic_trng_lut  # noqa: E402

from cosim.app.cli import main as vcma_main  # noqa: E402
from cosim.app.stages import Stages, format_seconds  # noqa: E402

STAGE = re.compile(r"^\[(\d+)/(\d+)\] (.+) \.\.\. (\d+(\.\d)? s|\d+ min \d+ s)$")


class _Tty(io.StringIO):
    def isatty(self):
        return True


def test_stage_lines_in_a_file_and_on_a_terminal():
    out = io.StringIO()
    stages = Stages(2, out=out)
    with stages.stage("first"):
        assert out.getvalue() == "[1/2] first ..."  # written (and flushed) when the stage starts
    with pytest.raises(KeyError):
        with stages.stage("second"):
            raise KeyError("boom")
    lines = out.getvalue().splitlines()
    assert STAGE.match(lines[0]).group(3) == "first"
    assert re.fullmatch(r"\[2/2\] second \.\.\. failed after \d+\.\d s", lines[1])
    tty = _Tty()
    with Stages(1, out=tty).stage("drawn over"):
        pass
    assert re.fullmatch(r"\[1/1\] drawn over \.\.\.\r\[1/1\] drawn over \.\.\. \d\.\d s\n", tty.getvalue())
    quiet = io.StringIO()
    with Stages(1, quiet=True, out=quiet).stage("silent"):
        pass
    assert quiet.getvalue() == "" and not Stages(1, quiet=True).progress and Stages(1).progress


def test_format_seconds():
    assert [format_seconds(s) for s in (0.42, 9.96, 38.4, 599, 612.4)] == ["0.4 s", "10.0 s", "38 s", "599 s",
                                                                            "10 min 12 s"]


def _demo_argv(tmp_path, *extra):
    lut = synthetic_trng_lut().save(tmp_path / "trng.lut.npz")
    return ["demo", "--out", str(tmp_path / "demo"), "--images", "2", "--seeds", "1", "--steps", "1", "--cycles", "1",
            "--trials", "1", "--sources", "software,mtj", "--lut", str(lut), "--threads", "1", *extra]


def test_demo_prints_stage_lines_in_order_and_progress(tmp_path, capsys):
    assert vcma_main(_demo_argv(tmp_path)) == 0
    captured = capsys.readouterr()
    stages = [STAGE.match(ln) for ln in captured.out.splitlines() if ln.startswith("[")]
    assert all(stages) and [int(m.group(1)) for m in stages] == [1, 2, 3, 4, 5, 6]
    assert {int(m.group(2)) for m in stages} == {6}
    titles = [m.group(3) for m in stages]
    assert titles[1].startswith("switching probability in SPICE") and titles[2].startswith("TRNG cell in SPICE")
    assert titles[3].startswith("digits with software noise") and titles[4].startswith("digits with mtj noise")
    assert "DDIM sampling" in captured.err and "switching (SPICE)" in captured.err  # progress bars on stderr
    assert captured.out.rstrip().endswith(f"report: {tmp_path / 'demo' / 'report.md'}")


def test_demo_quiet_prints_only_the_report_path(tmp_path, capsys):
    assert vcma_main(_demo_argv(tmp_path, "--quiet")) == 0
    captured = capsys.readouterr()
    assert captured.out == f"{tmp_path / 'demo' / 'report.md'}\n"
    assert captured.err == ""
    assert (tmp_path / "demo" / "report.md").stat().st_size > 0


def test_demo_first_stage_line_comes_before_the_checkpoints(tmp_path, capsys, monkeypatch):
    import cosim.app.demo as demo

    class NotYet:
        def __init__(self, *args, **kwargs):
            raise RuntimeError("checkpoints read")

    monkeypatch.setattr(demo, "Scorer", NotYet)
    with pytest.raises(RuntimeError, match="checkpoints read"):
        demo.run_demo(tmp_path / "demo", n_images=2, n_seeds=1, steps=1, sources=["software"])
    out = capsys.readouterr().out
    assert out.startswith("[1/5] checkpoints, held-out digit features and the trng LUT ... failed after")


def test_emulate_talks_and_quiet_keeps_the_result(tmp_path, capsys):
    lut = synthetic_trng_lut().save(tmp_path / "syn.lut.npz")
    argv = ["emulate", "--lut", str(lut), "--no-array-luts", "--rows", "4", "--cols", "4", "--cycles", "10",
            "--t-pulse", "0.5n", "--out", str(tmp_path / "b.npy")]
    assert vcma_main(argv) == 0
    lines = capsys.readouterr().out.splitlines()
    assert [STAGE.match(ln).group(1) for ln in lines if ln.startswith("[")] == ["1", "2", "3"]
    assert vcma_main([*argv, "--quiet"]) == 0
    out = capsys.readouterr().out.splitlines()
    assert len(out) == 1 and out[0].startswith(f"bits: {tmp_path / 'b.npy'} (160 bits, raw array bits")


def test_lut_validate_talks_unless_quiet(capsys):
    from cosim.luts.lut import shipped_lut_path

    argv = ["lut", "validate", str(shipped_lut_path("trng", "tt", 27.0)), "--points", "1", "--trials", "4"]
    assert vcma_main(argv) == 0
    captured = capsys.readouterr()
    assert STAGE.match(captured.out.splitlines()[0]).group(3) == "fresh SPICE trials at 1 point(s) of the trng LUT"
    assert "100%" in captured.err or "pt" in captured.err  # the sweep's progress bar
    assert vcma_main([*argv, "--quiet"]) == 0
    captured = capsys.readouterr()
    assert not captured.out.startswith("[") and "PASS" in captured.out and captured.err == ""
