"""The line length setup.cfg declares is the one ruff enforces (ruff.toml), on every file but
those listed as not yet wrapped, and that list only holds files that still need it."""
import configparser
import json
import pathlib
import subprocess
import sys
import tomllib

ROOT = pathlib.Path(__file__).resolve().parent.parent
LINTED = ["outreach", "tests", "bench", "migrations", "wsgi.py", "gunicorn.conf.py"]
RUFF = [sys.executable, "-m", "ruff"]


def _ruff_settings():
    return tomllib.loads((ROOT / "ruff.toml").read_text(encoding="utf-8"))


def _too_long(*args):
    found = subprocess.run([*RUFF, "check", "--output-format", "json", "--exit-zero", *args],
                           cwd=ROOT, capture_output=True, text=True, check=True)
    return [(_relative(e["filename"]), e["location"]["row"])
            for e in json.loads(found.stdout) if e["code"] == "E501"]


def _relative(filename):
    path = pathlib.Path(filename)
    return path.relative_to(ROOT).as_posix() if path.is_relative_to(ROOT) else str(path)


def test_ruff_enforces_the_line_length_setup_cfg_declares():
    declared = configparser.ConfigParser()
    declared.read(ROOT / "setup.cfg")
    settings = _ruff_settings()
    assert settings["line-length"] == declared.getint("flake8", "max-line-length") == 100
    assert "E501" in settings["lint"]["extend-select"]


def test_no_line_is_over_the_limit_outside_the_files_not_yet_wrapped():
    assert _too_long(*LINTED) == []


def test_a_too_long_line_fails_the_check(tmp_path):
    long_line = tmp_path / "long.py"
    long_line.write_text("LABEL = '" + "x" * 100 + "'\n", encoding="utf-8")
    assert _too_long("--config", str(ROOT / "ruff.toml"), str(long_line)) != []


def test_the_files_not_yet_wrapped_all_still_have_a_long_line():
    """Wrapping a file's lines and leaving it on the list would let new long lines in unseen."""
    listed = sorted(path for path in _ruff_settings()["lint"]["per-file-ignores"]
                    if (ROOT / path).exists())  # it also names files of branches merged later
    options = ["--isolated", "--select", "E501", "--line-length", "100"]
    still_long = {path for path, _row in _too_long(*options, *listed)}
    assert [path for path in listed if path not in still_long] == []
