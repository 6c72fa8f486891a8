"""This machine's IP addresses, for the URLs the command line prints (CPython only).

On Linux they come from the kernel's routing socket (netlink, RTM_GETADDR), the source
`ip addr` reads: every address of every interface, secondary ones included, which
neither gethostname() nor the SIOCGIFADDR ioctl (one IPv4 address per interface) gives.
Elsewhere, or when netlink is refused, the addresses the host name resolves to.
"""
import socket
import struct

NETLINK_ROUTE = 0
RTM_NEWADDR, RTM_GETADDR = 20, 22
NLMSG_ERROR, NLMSG_DONE = 2, 3
NLM_F_REQUEST, NLM_F_DUMP = 0x1, 0x300
IFA_ADDRESS, IFA_LOCAL = 1, 2
NLMSG_HEADER = struct.Struct("=IHHII")  # length, type, flags, sequence, port id
IFADDRMSG = struct.Struct("=BBBBI")  # family, prefix length, flags, scope, interface
RTATTR = struct.Struct("=HH")  # length, type


def machine_addresses(family):
    """The addresses (text) of the given family on this machine, loopback included, in
    the kernel's order, without repeats."""
    try:
        found = netlink_addresses()
    except (AttributeError, OSError):  # no AF_NETLINK here, or not allowed
        found = resolved_addresses()
    unique = []
    for found_family, address in found:
        if found_family == family and address not in unique:
            unique.append(address)
    return unique


def netlink_addresses():
    """(family, address) of every interface address, asked of the kernel."""
    request = NLMSG_HEADER.pack(NLMSG_HEADER.size + IFADDRMSG.size, RTM_GETADDR,
                                NLM_F_REQUEST | NLM_F_DUMP, 1, 0)
    request += IFADDRMSG.pack(socket.AF_UNSPEC, 0, 0, 0, 0)
    found = []
    with socket.socket(socket.AF_NETLINK, socket.SOCK_RAW, NETLINK_ROUTE) as sock:
        sock.settimeout(2)
        sock.sendall(request)
        while True:
            for kind, body in netlink_messages(sock.recv(65536)):
                if kind == NLMSG_DONE:
                    return found
                if kind == NLMSG_ERROR:
                    raise OSError("netlink refused the address dump")
                if kind == RTM_NEWADDR:
                    found.append(interface_address(body))


def netlink_messages(data):
    """(type, body) of each message in one datagram; messages are 4-byte aligned."""
    offset = 0
    while offset + NLMSG_HEADER.size <= len(data):
        length, kind = NLMSG_HEADER.unpack_from(data, offset)[:2]
        yield kind, data[offset + NLMSG_HEADER.size:offset + length]
        offset += (length + 3) & ~3


def interface_address(body):
    """(family, address) of an RTM_NEWADDR body. IFA_LOCAL is the interface's own
    address; IFA_ADDRESS is the same, except on point-to-point links where it is the
    peer's, and IPv6 sends IFA_ADDRESS alone."""
    family = IFADDRMSG.unpack_from(body)[0]
    attributes = {}
    offset = IFADDRMSG.size
    while offset + RTATTR.size <= len(body):
        length, kind = RTATTR.unpack_from(body, offset)
        attributes[kind] = body[offset + RTATTR.size:offset + length]
        offset += (length + 3) & ~3
    raw = attributes.get(IFA_LOCAL) or attributes[IFA_ADDRESS]
    return family, socket.inet_ntop(family, raw)


def resolved_addresses():
    """(family, address) that the host name resolves to, and the loopback ones."""
    found = [(socket.AF_INET, "127.0.0.1"), (socket.AF_INET6, "::1")]
    try:
        infos = socket.getaddrinfo(socket.gethostname(), None)
    except OSError:
        return found  # no resolvable host name: loopback only
    return found + [(info[0], info[4][0]) for info in infos]
