"""Loopback proxies for the proxy tests: an HTTP proxy (forwarding and CONNECT) and a SOCKS5 one.

Each records what it was asked (`seen`: the target, and the credentials it was given) and can
demand a user and password. Both relay bytes without looking at them, like real proxies.
"""

from __future__ import annotations

import base64
import select
import socket
import socketserver
import struct
import threading
from urllib.parse import urlsplit


class _Proxy(socketserver.ThreadingTCPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, handler, host: str = "127.0.0.1", credentials: tuple[str, str] | None = None) -> None:  # noqa: ANN001
        self.credentials = credentials
        self.seen: list[dict] = []
        super().__init__((host, 0), handler)
        self.thread = threading.Thread(target=self.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
        self.thread.start()

    @property
    def port(self) -> int:
        return self.server_address[1]

    def stop(self) -> None:
        self.shutdown()
        self.server_close()


def _relay(a: socket.socket, b: socket.socket) -> None:
    sockets = [a, b]
    try:
        while True:
            readable, _, _ = select.select(sockets, [], [], 10)
            if not readable:
                return
            for sock in readable:
                data = sock.recv(65536)
                if not data:
                    return
                (b if sock is a else a).sendall(data)
    except OSError:
        return
    finally:
        b.close()


def _read_head(sock: socket.socket) -> bytes:
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = sock.recv(4096)
        if not chunk:
            break
        data += chunk
    return data


class _HTTPProxyHandler(socketserver.BaseRequestHandler):
    def handle(self) -> None:
        client: socket.socket = self.request
        raw = _read_head(client)
        head, _, rest = raw.partition(b"\r\n\r\n")
        lines = head.decode("latin-1").split("\r\n")
        method, target, _version = lines[0].split(" ", 2)
        headers = {}
        for line in lines[1:]:
            name, _, value = line.partition(":")
            headers[name.strip().lower()] = value.strip()
        auth = headers.get("proxy-authorization", "")
        user = password = None
        if auth.lower().startswith("basic "):
            user, _, password = base64.b64decode(auth[6:]).decode().partition(":")
        self.server.seen.append({"method": method, "target": target, "user": user, "password": password, "host": headers.get("host")})
        if self.server.credentials and (user, password) != self.server.credentials:
            client.sendall(b"HTTP/1.1 407 Proxy Authentication Required\r\nProxy-Authenticate: Basic\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")
            return
        try:
            if method == "CONNECT":
                host, _, port = target.rpartition(":")
                upstream = socket.create_connection((host.strip("[]"), int(port)), timeout=10)
            else:
                url = urlsplit(target)
                upstream = socket.create_connection((url.hostname, url.port or 80), timeout=10)
        except OSError:
            client.sendall(b"HTTP/1.1 502 Bad Gateway\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")
            return
        if method == "CONNECT":
            client.sendall(b"HTTP/1.1 200 Connection established\r\n\r\n")
            if rest:
                upstream.sendall(rest)
            _relay(client, upstream)
            return
        path = url.path or "/"
        if url.query:
            path += "?" + url.query
        kept = [line for line in lines[1:] if not line.lower().startswith("proxy-")]
        upstream.sendall(f"{method} {path} HTTP/1.1\r\n".encode() + "\r\n".join(kept).encode("latin-1") + b"\r\n\r\n" + rest)
        _relay(client, upstream)


class HTTPProxy(_Proxy):
    """An HTTP proxy: absolute-form requests are forwarded, CONNECT opens a tunnel."""

    def __init__(self, host: str = "127.0.0.1", credentials: tuple[str, str] | None = None) -> None:
        super().__init__(_HTTPProxyHandler, host, credentials)

    def url(self, credentials: str = "") -> str:
        return f"http://{credentials + '@' if credentials else ''}127.0.0.1:{self.port}"


class TLSHTTPProxy(HTTPProxy):
    """An HTTP proxy reached over TLS (an `https://` proxy)."""

    def __init__(self, cert: str, key: str, credentials: tuple[str, str] | None = None) -> None:
        import ssl

        self.context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        self.context.load_cert_chain(cert, key)
        super().__init__("127.0.0.1", credentials)

    def get_request(self):  # type: ignore[no-untyped-def]
        sock, address = super().get_request()
        return self.context.wrap_socket(sock, server_side=True), address

    def url(self, credentials: str = "") -> str:
        return "https" + super().url(credentials)[4:]


class _Socks5Handler(socketserver.BaseRequestHandler):
    def _exact(self, n: int) -> bytes:
        data = b""
        while len(data) < n:
            chunk = self.request.recv(n - len(data))
            if not chunk:
                raise ConnectionError("client went away")
            data += chunk
        return data

    def handle(self) -> None:
        client: socket.socket = self.request
        try:
            version, count = self._exact(2)
            methods = self._exact(count)
            user = password = None
            if self.server.credentials:
                if 2 not in methods:
                    client.sendall(b"\x05\xff")
                    return
                client.sendall(b"\x05\x02")
                _ver, ulen = self._exact(2)
                user = self._exact(ulen).decode()
                (plen,) = self._exact(1)
                password = self._exact(plen).decode()
                ok = (user, password) == self.server.credentials
                client.sendall(b"\x01\x00" if ok else b"\x01\x01")
                if not ok:
                    self.server.seen.append({"target": None, "user": user, "password": password})
                    return
            else:
                client.sendall(b"\x05\x00")
            _ver, command, _rsv, atyp = self._exact(4)
            if atyp == 1:
                host = socket.inet_ntoa(self._exact(4))
            elif atyp == 4:
                host = socket.inet_ntop(socket.AF_INET6, self._exact(16))
            else:
                (length,) = self._exact(1)
                host = self._exact(length).decode()
            (port,) = struct.unpack("!H", self._exact(2))
            self.server.seen.append({"target": f"{host}:{port}", "address_type": atyp, "user": user, "password": password})
            try:
                upstream = socket.create_connection((host, port), timeout=10)
            except OSError:
                client.sendall(b"\x05\x05\x00\x01" + b"\x00" * 6)  # connection refused
                return
            client.sendall(b"\x05\x00\x00\x01" + socket.inet_aton("127.0.0.1") + struct.pack("!H", 0))
            _relay(client, upstream)
        except (ConnectionError, OSError, ValueError):
            return


class Socks5Proxy(_Proxy):
    """A SOCKS5 proxy (RFC 1928, user and password per RFC 1929), CONNECT only."""

    def __init__(self, host: str = "127.0.0.1", credentials: tuple[str, str] | None = None) -> None:
        super().__init__(_Socks5Handler, host, credentials)

    def url(self, credentials: str = "", scheme: str = "socks5h") -> str:
        return f"{scheme}://{credentials + '@' if credentials else ''}127.0.0.1:{self.port}"


def dead_port() -> int:
    """A loopback port nobody listens on (bound, then closed)."""
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    sock.close()
    return port


def _san(name: str):  # noqa: ANN202
    import ipaddress

    from cryptography import x509

    try:
        return x509.IPAddress(ipaddress.ip_address(name))
    except ValueError:
        return x509.DNSName(name)


def self_signed(folder, name: str) -> tuple[str, str]:  # noqa: ANN001
    """A certificate for `name` (a host name or an IP address) and its key, its own issuer:
    files in `folder`."""
    import datetime

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])
    now = datetime.datetime.now(datetime.UTC)
    cert = (
        x509.CertificateBuilder().subject_name(subject).issuer_name(subject).public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5)).not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(x509.SubjectAlternativeName([_san(name)]), critical=False)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = folder / f"{name}.cert.pem", folder / f"{name}.key.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    )
    return str(cert_path), str(key_path)
