"""Importing the card package or the CLI module pulls in no heavy optional module."""

import subprocess
import sys


def test_compact_models_import_is_light():
    code = "import sys, compact_models, compact_models.render; print(sorted(m for m in ('torch', 'numpy', 'PySpice', 'matplotlib') if m in sys.modules))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"


def test_cli_help_does_not_import_torch():
    code = "import sys, cosim.app.cli; cosim.app.cli.build_parser(); print('torch' in sys.modules, 'PySpice' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "False False"
