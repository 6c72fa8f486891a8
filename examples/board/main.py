"""What a board runs at boot: join the Wi-Fi named in settings.json, then serve the page.

settings.json (next to this file, at the board's root; see settings.example.json):
  "ssid", "password"  the Wi-Fi network to join
  "port"              the HTTP port (default 80)
  "hostname"          optional: the board's DHCP/mDNS name (http://NAME.local/)
  "workers"           optional: threads serving requests besides the main loop (default
                      0, right for a Pico W; 1 or 2 on an ESP32 serve the page during
                      an upload)
  "ap_password"       optional: WPA2 password (8+ characters) of the fallback access point
  "auth"              optional: "user:password" that every request must carry (HTTP
                      Basic: the browser asks once); without it anyone on the network
                      may upload, delete and read the live log

When there is no network to join (no settings, or the Wi-Fi does not answer within
CONNECT_TIMEOUT), the board opens its own access point, "wsserver-XXXX" (the end of its
MAC address), so the page stays reachable: join it and open http://192.168.4.1/.

Everything is printed, and from the moment the server starts print() output is also in
the page's live log. The Wi-Fi code is in functions that import `network` only when
called, so the file imports (and is tested) where there is no `network` module.
"""
import json
import time

import wsserver

SETTINGS = "settings.json"
CONNECT_TIMEOUT = 20  # seconds to wait for the Wi-Fi before opening an access point
DEFAULT_PORT = 80


def load_settings(path=SETTINGS):
    """The settings as a dict, with "port" filled in; a missing or unreadable file, or
    missing keys, are printed (with what to do) and give what could be read."""
    try:
        with open(path) as file:
            settings = json.load(file)
    except OSError:
        print("settings: no %s: copy settings.example.json to the board as %s "
              "with your Wi-Fi's ssid and password" % (path, path))
        settings = {}
    except ValueError as exc:
        print("settings: %s is not valid JSON (%s): fix it, or delete it" % (path, exc))
        settings = {}
    if not isinstance(settings, dict):
        print("settings: %s must hold a JSON object {...}" % path)
        settings = {}
    missing = [key for key in ("ssid", "password") if key not in settings]
    if missing and settings:
        print("settings: %s lacks %s" % (path, ", ".join('"%s"' % k for k in missing)))
    port = settings.get("port", DEFAULT_PORT)
    if not isinstance(port, int) or not 0 < port < 65536:
        print("settings: \"port\" must be a number from 1 to 65535, not %r: using %d"
              % (port, DEFAULT_PORT))
        port = DEFAULT_PORT
    settings["port"] = port
    return settings


def set_hostname(network, wlan, hostname):
    """network.hostname() on MicroPython 1.20+, else the interface's own setting."""
    try:
        if hasattr(network, "hostname"):
            network.hostname(hostname)
        else:
            wlan.config(dhcp_hostname=hostname)
    except (OSError, ValueError, TypeError) as exc:
        print("wifi: cannot set hostname %r: %s" % (hostname, exc))


def join_wifi(settings, timeout=CONNECT_TIMEOUT):
    """Join settings' Wi-Fi as a station; its IP address, or None after `timeout`."""
    import network
    wlan = network.WLAN(network.STA_IF)
    if settings.get("hostname"):
        set_hostname(network, wlan, settings["hostname"])
    wlan.active(True)
    if wlan.isconnected():
        return wlan.ifconfig()[0]
    print("wifi: connecting to %r" % settings["ssid"])
    try:
        wlan.connect(settings["ssid"], settings.get("password", ""))
    except OSError as exc:
        print("wifi: cannot connect: %s" % exc)
        wlan.active(False)
        return None
    for waited in range(timeout):
        if wlan.isconnected():
            return wlan.ifconfig()[0]
        print("wifi: waiting (%d s, status %s)" % (waited, wlan.status()))
        time.sleep(1)
    if wlan.isconnected():
        return wlan.ifconfig()[0]
    print("wifi: %r did not answer in %d s" % (settings["ssid"], timeout))
    wlan.disconnect()
    wlan.active(False)  # leaves the radio to the access point
    return None


def start_access_point(settings):
    """Open this board's own network "wsserver-XXXX"; its IP address."""
    import machine
    import network
    ap = network.WLAN(network.AP_IF)
    name = "wsserver-%02x%02x" % tuple(machine.unique_id()[-2:])  # MAC-based on ESP32
    password = settings.get("ap_password") or ""
    if password and len(password) < 8:
        print("wifi: \"ap_password\" needs 8 characters or more: the network is open")
        password = ""
    # The Pico W wants the configuration before activation; older ESP32 firmware only
    # configures a started interface.
    if not configure_access_point(network, ap, name, password):
        ap.active(True)
        if not configure_access_point(network, ap, name, password):
            print("wifi: cannot name the access point: it keeps the port's default name")
    ap.active(True)
    print("wifi: access point %r (%s)" % (name, "WPA2" if password else "open"))
    return ap.ifconfig()[0]


def configure_access_point(network, ap, name, password):
    """Name (and protect) the access point; False when the port refused both spellings
    of the options (ESP32: essid/password/authmode; Pico W: ssid/key)."""
    spellings = [{"essid": name}, {"ssid": name}]
    if password:
        spellings[0].update(password=password,
                            authmode=getattr(network, "AUTH_WPA2_PSK", 3))
        spellings[1].update(key=password)
    for options in spellings:
        try:
            ap.config(**options)
            return True
        except (OSError, ValueError, TypeError) as exc:
            error = exc
    print("wifi: access point settings refused: %s" % error)
    return False


def url(address, port):
    return "http://%s/" % address if port == 80 else "http://%s:%d/" % (address, port)


def main():
    settings = load_settings()
    address = join_wifi(settings) if settings.get("ssid") else None
    joined = address is not None
    if not joined:
        address = start_access_point(settings)
    print("wsserver: open %s" % url(address, settings["port"]))
    if joined and settings.get("hostname"):
        print("wsserver: or %s" % url(settings["hostname"] + ".local", settings["port"]))
    wsserver.serve(port=settings["port"], directory="static", uploads="uploads",
                   workers=settings.get("workers", 0), auth=settings.get("auth"))


if __name__ == "__main__":
    main()
