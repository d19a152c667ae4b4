"""The explorer serves only its own page: real HTTP requests to a served
explorer with the headers a hostile page's browser sends (another `Host`
after DNS rebinding, another `Origin`, `Sec-Fetch-Site: cross-site`, a
`text/plain` body) are refused before anything runs; the page's own get 200."""

import http.client
import json
import threading
import uuid

import pytest

from dcgan_tf.explorer import Explorer, create_app
from dcgan_tf.explorer.server import bind
from dcgan_tf.sampling import drawing as sampling

SAMPLE = json.dumps({"seed": 3, "count": 2}).encode()
JSON = {"Content-Type": "application/json"}


@pytest.fixture(scope="module")
def explorer(tmp_path_factory):
    from dcgan_tf.model.networks import build_generator

    path = tmp_path_factory.mktemp("guard") / "generator.keras"
    build_generator((16, 16, 1), 8, 8).save(path)
    return Explorer(sampling.load_generator(path))


@pytest.fixture
def calls(explorer, monkeypatch):
    """Every call of the explorer's sampling and projection, to show that a
    refused request ran nothing."""
    made = []
    for name in ("sample", "render"):
        method = getattr(explorer, name)
        monkeypatch.setattr(
            explorer,
            name,
            lambda *a, _m=method, _n=name, **k: made.append(_n) or _m(*a, **k),
        )
    from dcgan_tf.explorer import projection

    project = projection.project
    monkeypatch.setattr(
        projection,
        "project",
        lambda *a, **k: made.append("project") or project(*a, **k),
    )
    return made


def served(explorer, host):
    """`create_app` served by `bind` (as the command serves it) on a free port."""
    server = bind(create_app(explorer), host, 0)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


@pytest.fixture(scope="module")
def server(explorer):
    server = served(explorer, "127.0.0.1")
    yield server
    server.shutdown()
    server.server_close()


def request(server, method, path, body=None, headers=(), connect=None):
    """One request with exactly these headers (`Host` given by hand when in
    `headers`): `(status, body bytes)`."""
    address = connect or server.server_address[0]
    connection = http.client.HTTPConnection(address, server.port, timeout=60)
    headers = dict(headers)
    try:
        connection.putrequest(method, path, skip_host="Host" in headers)
        for name, value in headers.items():
            connection.putheader(name, value)
        if body is not None:
            connection.putheader("Content-Length", str(len(body)))
        connection.endheaders(body)
        response = connection.getresponse()
        return response.status, response.read()
    finally:
        connection.close()


def own(server, name="127.0.0.1"):
    return f"{name}:{server.port}"


def test_the_page_and_its_own_requests_are_served(server, calls):
    port = server.port
    for host in (own(server), own(server, "localhost"), f"[::1]:{port}"):
        for path in ("/", "/static/app.js", "/api/info"):
            status, _ = request(server, "GET", path, headers={"Host": host})
            assert status == 200, (host, path)
    # As the page's fetch() sends it: its own origin, same-origin, JSON.
    headers = JSON | {
        "Host": own(server),
        "Origin": f"http://{own(server)}",
        "Sec-Fetch-Site": "same-origin",
    }
    status, body = request(server, "POST", "/api/sample", SAMPLE, headers)
    assert status == 200 and len(json.loads(body)["images"]) == 2
    charset = {"Content-Type": "application/json; charset=utf-8"}
    assert request(server, "POST", "/api/sample", SAMPLE, charset)[0] == 200
    # A link to the page from another site opens it (it only shows the page).
    link = {"Sec-Fetch-Site": "cross-site", "Sec-Fetch-Mode": "navigate"}
    assert request(server, "GET", "/", headers=link)[0] == 200
    assert calls.count("sample") == 2


@pytest.mark.parametrize(
    "host",
    [
        "evil.example.com",
        "evil.example.com:{port}",
        "127.0.0.1.evil.example.com:{port}",
        "evil.example.com@127.0.0.1:{port}",
        "127.0.0.1:1",  # another port
        "127.0.0.2:{port}",  # an address it was not told to listen on
        "",
    ],
)
def test_a_rebound_host_name_is_refused_on_every_route(server, calls, host):
    headers = {"Host": host.format(port=server.port)}
    for method, path, body in [
        ("GET", "/", None),
        ("GET", "/static/app.js", None),
        ("GET", "/api/info", None),
        ("GET", "/api/directions", None),
        ("POST", "/api/sample", SAMPLE),
    ]:
        status, answer = request(server, method, path, body, headers | JSON)
        assert status == 403, (host, path)
        assert "not this explorer's address" in json.loads(answer)["error"]
    assert calls == []


def test_an_explicit_host_is_accepted_and_only_there(explorer, server, calls):
    elsewhere = served(explorer, "127.0.0.2")
    try:
        headers = JSON | {"Host": own(elsewhere, "127.0.0.2")}
        status, _ = request(elsewhere, "POST", "/api/sample", SAMPLE, headers)
        assert status == 200
        assert request(elsewhere, "GET", "/", headers=headers)[0] == 200
    finally:
        elsewhere.shutdown()
        elsewhere.server_close()
    # Listening on every interface: addresses are fine, names still are not.
    from dcgan_tf.explorer.guard import host_allowed

    assert host_allowed("10.1.2.3", "0.0.0.0") and host_allowed("fe80::1", "::")
    assert not host_allowed("evil.example.com", "0.0.0.0")
    assert not host_allowed("10.1.2.3", "127.0.0.1")
    assert calls.count("sample") == 1


def test_another_origin_is_refused(server, calls):
    port = server.port
    for origin in (
        "http://evil.example.com",
        f"http://evil.example.com:{port}",
        "null",  # a sandboxed frame or a file:// page
        f"https://127.0.0.1:{port}",
        f"http://localhost:{port}",  # another origin than the page's Host
        f"http://127.0.0.1:{port + 1}",
    ):
        headers = JSON | {"Host": own(server), "Origin": origin}
        status, answer = request(server, "POST", "/api/sample", SAMPLE, headers)
        assert status == 403, origin
        assert "another site" in json.loads(answer)["error"]
    assert calls == []


def test_a_cross_site_text_plain_post_runs_nothing(server, calls):
    # What a form or a fetch(no-cors) of another site sends: no preflight.
    hostile = {
        "Host": own(server),
        "Content-Type": "text/plain",
        "Origin": "http://evil.example.com",
        "Sec-Fetch-Site": "cross-site",
    }
    assert request(server, "POST", "/api/sample", SAMPLE, hostile)[0] == 403
    for site in ("cross-site", "same-site"):  # Origin left out, as by a proxy
        for method, path, body in [
            ("POST", "/api/sample", SAMPLE),
            ("GET", "/api/info", None),
            ("GET", "/", None),  # not a navigation: a fetch or a frame
        ]:
            headers = JSON | {"Sec-Fetch-Site": site}
            status, answer = request(server, method, path, body, headers)
            assert status == 403, (site, path)
            assert "another site" in json.loads(answer)["error"]
    assert calls == []


@pytest.mark.parametrize(
    "content_type",
    ["text/plain", "application/x-www-form-urlencoded", "multipart/form-data", None],
)
def test_json_routes_take_only_json(server, calls, content_type):
    headers = {} if content_type is None else {"Content-Type": content_type}
    for path in ("/api/sample", "/api/render", "/api/export/npz"):
        status, answer = request(server, "POST", path, SAMPLE, headers)
        assert status == 415, (content_type, path)
        assert "application/json" in json.loads(answer)["error"]
    assert calls == []


def multipart(fields: dict, image: bytes):
    boundary = uuid.uuid4().hex
    parts = [
        f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n'
        f"{value}\r\n".encode()
        for name, value in fields.items()
    ]
    parts.append(
        f'--{boundary}\r\nContent-Disposition: form-data; name="image"; '
        f'filename="x.png"\r\nContent-Type: image/png\r\n\r\n'.encode()
        + image
        + b"\r\n"
    )
    body = b"".join(parts) + f"--{boundary}--\r\n".encode()
    return body, {"Content-Type": f"multipart/form-data; boundary={boundary}"}


def test_an_upload_from_another_site_is_refused(server, calls):
    import io

    import numpy as np
    from PIL import Image

    buffer = io.BytesIO()
    Image.fromarray(np.zeros((16, 16), np.uint8)).save(buffer, format="PNG")
    body, headers = multipart({"steps": "1"}, buffer.getvalue())
    for hostile in (
        {"Origin": "http://evil.example.com"},
        {"Sec-Fetch-Site": "cross-site"},
    ):
        status, answer = request(
            server, "POST", "/api/project", body, headers | hostile
        )
        assert status == 403 and "another site" in json.loads(answer)["error"]
    assert calls == []
    mine = headers | {
        "Origin": f"http://{own(server)}",
        "Sec-Fetch-Site": "same-origin",
    }
    status, answer = request(server, "POST", "/api/project", body, mine)
    assert status == 200, answer
    assert "project" in calls
