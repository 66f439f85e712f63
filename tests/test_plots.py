"""--plot of bpfast demo and bpfast train: a valid PNG with the right panels, or, without
matplotlib, a message saying how to install it."""

import sys

import pytest

from bpfast.cli import main

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
DEMO = ["demo", "--steps", "20", "--every", "10", "--repeats", "1"]
TRAIN = ["train", "digits", "--hidden", "8", "--epochs", "2", "--no-progress"]


def png_size(path):
    """(width, height) from the IHDR chunk, after checking the signature."""
    data = path.read_bytes()
    assert data[:8] == PNG_SIGNATURE, "not a PNG file"
    assert data[12:16] == b"IHDR"
    return int.from_bytes(data[16:20], "big"), int.from_bytes(data[20:24], "big")


@pytest.fixture
def image():
    """matplotlib's PNG reader (skips without matplotlib)."""
    return pytest.importorskip("matplotlib.image").imread


def test_demo_writes_the_cost_curve(tmp_path, capsys, image):
    path = tmp_path / "demo.png"
    assert main([*DEMO, "--plot", str(path)]) == 0
    assert f"wrote {path}" in capsys.readouterr().out
    assert png_size(path) == (600, 420)                    # one panel: the cost
    pixels = image(path)
    assert pixels.shape[:2] == (420, 600) and pixels.std() > 0


def test_train_writes_cost_and_test_accuracy(tmp_path, capsys, image):
    path = tmp_path / "train.png"
    assert main([*TRAIN, "--plot", str(path)]) == 0
    assert f"wrote {path}" in capsys.readouterr().out
    assert png_size(path) == (1200, 420)                   # two panels: cost and test accuracy
    assert image(path).shape[:2] == (420, 1200)


@pytest.mark.parametrize("argv", [DEMO, TRAIN])
def test_without_matplotlib_a_clear_message(tmp_path, capsys, monkeypatch, argv):
    monkeypatch.setitem(sys.modules, "matplotlib", None)   # `import matplotlib` raises ImportError
    path = tmp_path / "none.png"
    with pytest.raises(SystemExit) as exit_info:           # refused before any work is done
        main([*argv, "--plot", str(path)])
    assert exit_info.value.code == 2
    captured = capsys.readouterr()
    assert "argument --plot: needs matplotlib: pip install 'bpfast[plot]'" in captured.err
    assert captured.out == ""
    assert not path.exists()
