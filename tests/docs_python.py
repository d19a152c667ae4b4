"""A warm `python` for tests/test_docs.py: each documented command, as written,
in a fork of one process that has already imported TensorFlow and Keras.

Importing TensorFlow costs seconds per process, and the pages hold dozens of
`python -m dcgan_tf.COMMAND` lines. `serve(SOCKET)` imports the heavy modules
once (running nothing: no op, no device listing), then for each request forks
a child that takes the caller's stdin, stdout and stderr (passed over the Unix
socket), working directory, environment and arguments and runs the module or
script as `python` would, as `__main__`; its exit code goes back to the caller.
`shim()` is the `python` the pages' blocks find first on their PATH: it sends
`-m dcgan_tf.*` and the blocks' own scripts to the server, and anything else
(another backend, `bench --max-isa`, `notebooks/run.py`, `-c`) to the real
interpreter.
"""

import json
import os
import runpy
import signal
import socket
import sys
import traceback

BLOCK_SCRIPT = "-block-"  # tests/test_docs.py names its block scripts so


def warm_up() -> None:
    """Imports what the commands import, without running anything."""
    os.environ.setdefault("KERAS_BACKEND", "tensorflow")
    # dcgan_tf first (TensorFlow's start-up lines hidden); these import Keras.
    import dcgan_tf.quality.evaluation  # noqa: F401
    import dcgan_tf.sampling.drawing  # noqa: F401
    import dcgan_tf.training.run  # noqa: F401


def serve(path: str) -> None:
    """Serves requests on the Unix socket `path` until killed."""
    warm_up()
    server = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    server.bind(path)
    server.listen(8)
    signal.signal(signal.SIGCHLD, signal.SIG_IGN)  # the handlers reap themselves
    print("ready", flush=True)
    while True:
        connection, _ = server.accept()
        if os.fork() == 0:
            server.close()
            signal.signal(signal.SIGCHLD, signal.SIG_DFL)
            _handle(connection)
        connection.close()


def _handle(connection) -> None:
    """Runs one request in a grandchild and reports its exit code; never returns."""
    message, fds, _, _ = socket.recv_fds(connection, 1 << 20, 3)
    request = json.loads(message)
    pid = os.fork()
    if pid == 0:
        connection.close()
        for target, fd in enumerate(fds):
            os.dup2(fd, target)
            os.close(fd)
        _run(request)
    for fd in fds:
        os.close(fd)
    _, status = os.waitpid(pid, 0)
    connection.sendall(str(os.waitstatus_to_exitcode(status)).encode())
    connection.close()
    os._exit(0)


def _run(request) -> None:
    os.chdir(request["cwd"])
    os.environ.clear()
    os.environ.update(request["env"])
    args = request["args"]
    code = 0
    try:
        if args[0] == "-m":
            sys.argv = [args[1], *args[2:]]
            sys.path[0] = os.getcwd()
            runpy.run_module(args[1], run_name="__main__", alter_sys=True)
        else:
            sys.argv = list(args)
            sys.path[0] = os.path.dirname(os.path.abspath(args[0]))
            runpy.run_path(args[0], run_name="__main__")
    except SystemExit as exit:
        if exit.code is None or isinstance(exit.code, int):
            code = exit.code or 0
        else:
            print(exit.code, file=sys.stderr)
            code = 1
    except BaseException:
        traceback.print_exc()
        code = 1
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except OSError:
            pass
    os._exit(code)


def _served(args) -> bool:
    if os.environ.get("KERAS_BACKEND", "tensorflow") != "tensorflow":
        return False
    if "--max-isa" in args:  # an ISA cap holds only in a fresh process
        return False
    if len(args) >= 2 and args[0] == "-m":
        return args[1].startswith("dcgan_tf.")
    return bool(args) and BLOCK_SCRIPT in os.path.basename(args[0])


def shim(real_python: str, path: str) -> None:
    """Runs `python ARGS` through the server at `path`, or the real one."""
    args = sys.argv[1:]
    if not _served(args) or not os.path.exists(path):
        os.execv(real_python, [real_python, *args])
    client = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    client.connect(path)
    request = {"args": args, "cwd": os.getcwd(), "env": dict(os.environ)}
    socket.send_fds(client, [json.dumps(request).encode()], [0, 1, 2])
    reply = b""
    while chunk := client.recv(64):
        reply += chunk
    code = int(reply or b"1")
    sys.exit(code if code >= 0 else 128 - code)


if __name__ == "__main__":
    serve(sys.argv[1])
