"""The explorer's server at work: its own page only (`guard`), every error
answered in one JSON line, and the werkzeug server bound and serving.

`dcgan_tf.explorer.server.create_app` makes the app and its routes; the names
here are importable from `dcgan_tf.explorer.server` too.
"""

import logging
import socket

from flask import Flask, jsonify, request
from werkzeug.exceptions import HTTPException
from werkzeug.serving import make_server

from dcgan_tf.explorer import guard, projection
from dcgan_tf.explorer.validation import RequestError

DEFAULT_HOST = "127.0.0.1"
FORM_ROUTES = ("/api/project",)  # multipart uploads; every other POST is JSON


def refuse_and_answer_errors(app: Flask) -> None:
    """Makes `app` refuse what is not its own page's request (`guard.check`)
    and answer a bad request 400, a bug 500 and any other HTTP error with its
    code, each as `{"error": "..."}` in one line, which the page shows."""

    @app.before_request
    def only_its_own_page():
        try:
            guard.check(
                request.method,
                request.path,
                request.headers,
                app.config["EXPLORER_HOST"],
                int(request.environ.get("SERVER_PORT") or 80),
                lambda path: path not in FORM_ROUTES,
            )
        except guard.Refused as refused:
            return jsonify(error=str(refused)), refused.status

    @app.errorhandler(RequestError)
    @app.errorhandler(ValueError)
    def bad_request(error):
        return jsonify(error=str(error)), 400

    @app.errorhandler(Exception)
    def internal_error(error):
        # A bug, not the request's fault: logged with its traceback, and the
        # page is told in one line; the server keeps serving.
        app.logger.exception("Unexpected error on %s", request.path)
        return jsonify(error=f"Internal error ({type(error).__name__}): {error}"), 500

    @app.errorhandler(HTTPException)
    def http_error(error):
        if error.code == 413:
            limit = f"{projection.MAX_UPLOAD_BYTES // 2**20} MiB"
            message = (
                f"The upload is larger than {limit}; choose a smaller image."
                if request.path == "/api/project"
                else f"The request is larger than {limit}; send less."
            )
        else:
            message = f"{error.code} {error.name}: {error.description}"
        return jsonify(error=message), error.code


def bind(app: Flask, host: str, port: int):
    """A werkzeug server of `app` listening on `host:port` (port 0: a free
    one), not yet serving; requests must then name `host` (or the loopback)
    and its port in `Host`.

    Raises:
        OSError: when the address cannot be bound (port in use, unknown host).
    """
    app.config["EXPLORER_HOST"] = host
    # Bound here, not by werkzeug, which answers a port in use with exit(1).
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.create_server((host, port), family=family) as listening:
        return make_server(host, port, app, threaded=True, fd=listening.fileno())


def serve(app: Flask, host: str, port: int, announce) -> None:
    """Serves `app` until Ctrl-C (KeyboardInterrupt, left to the caller).

    Args:
        app: from `create_app`.
        host, port: where to listen (port 0: a free one).
        announce: called with the page's address once it is listening.

    Raises:
        OSError: when the address cannot be bound (port in use, unknown host).
    """
    logging.getLogger("werkzeug").setLevel(logging.WARNING)
    server = bind(app, host, port)
    shown = f"[{host}]" if ":" in host else host
    announce(f"http://{shown}:{server.server_address[1]}/")
    try:
        server.serve_forever()
    finally:
        server.server_close()
